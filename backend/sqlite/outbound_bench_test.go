package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels"
	"switchboard/channels/custom"
	"switchboard/channels/custom/customtest"
)

// BenchmarkOutboundReply is the CPU one sent reply costs, from storing it to
// the platform's answer, with a history of already sent replies in the
// store: the bots of 50 customers of the custom channel store b.N replies
// at once, and the backlog goes out through the hub's outbox at the
// channel's 50 sends a second. The figure is the
// process's CPU time (engine and the fake platform, which share it) per
// reply. OUTBOUND_HISTORY lists the history sizes (default "0,100000").
//
//	OUTBOUND_HISTORY=0,1000000 go test -run '^$' -bench OutboundReply -benchtime 500x ./backend/sqlite/
func BenchmarkOutboundReply(b *testing.B) {
	sizes := os.Getenv("OUTBOUND_HISTORY")
	if sizes == "" {
		sizes = "0,100000"
	}
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("history=%d", n), func(b *testing.B) { benchOutbound(b, n) })
	}
}

func benchOutbound(b *testing.B, history int) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "engine.db")
	db := MustOpenDBAt(b, path)
	fake := customtest.NewServer("bench-secret-of-16+chars")
	b.Cleanup(fake.Close)
	cfg, _ := json.Marshal(map[string]string{"secret": fake.Secret, "url": fake.URL})
	if err := db.PutChannelInstance(ctx, &backend.ChannelInstance{Connector: custom.ID, Instance: "bench", Config: cfg, Enabled: true}); err != nil {
		b.Fatal(err)
	}
	var convs []string
	for i := range 50 {
		m, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: custom.ID, Instance: "bench",
			ExternalUserID: fmt.Sprintf("customer-%d", i), ExternalID: fmt.Sprintf("in-%d", i), Text: "hello"})
		if err != nil {
			b.Fatal(err)
		}
		convs = append(convs, m.ConversationID)
	}
	seedSentHistory(b, path, convs[0], history)
	hub, err := channels.NewHub(ctx, db, channels.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	// The history's own pass is not the replies' cost.
	if _, err := db.EnqueueOutbox(ctx, time.Now()); err != nil {
		b.Fatal(err)
	}
	sent0 := len(fake.Requests())
	b.ResetTimer()
	cpu0, sys0, w0 := cpuTime(), sysTime(), db.WriterStats()
	// The bots of the 50 conversations answer at once, as flows do.
	var wg sync.WaitGroup
	for c := range convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < b.N; i += len(convs) {
				if _, _, err := db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: convs[c],
					Text: fmt.Sprintf("Bot answer %d", i), AuthorName: "Bot", ClientID: fmt.Sprintf("bench-%d", i)}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := hub.Start(ctx); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(time.Duration(b.N)*time.Second/25 + time.Minute)
	for len(fake.Requests())-sent0 < b.N {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d replies sent", len(fake.Requests())-sent0, b.N)
		}
		time.Sleep(20 * time.Millisecond) // the sends go at the platform's 50 a second
	}
	cpu, sys := cpuTime(), sysTime()
	cpu -= cpu0
	sys -= sys0
	b.StopTimer()
	hub.Close()
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/reply")
	b.ReportMetric(float64(sys.Microseconds())/1000/float64(b.N), "sys-ms/reply")
	w := db.WriterStats()
	b.ReportMetric(float64(w.Transactions-w0.Transactions)/float64(b.N), "tx/reply")
	b.ReportMetric(float64(w.Batches-w0.Batches)/float64(b.N), "commits/reply")
	b.ReportMetric(0, "ns/op")
}

// seedSentHistory writes n outbound messages of conv that were sent long
// ago, with their finished outbox jobs, straight into the file.
func seedSentHistory(tb testing.TB, path, conv string, n int) {
	tb.Helper()
	if n == 0 {
		return
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	at := "2025-01-01T00:00:00.000000000Z"
	for _, q := range []string{
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
		INSERT INTO messages (id, conversation_id, contact_id, channel, instance, direction, author_name, text, status, external_id,
			created_at, updated_at)
		SELECT 'msg_history_' || i, c.id, c.contact_id, c.channel, c.instance, 'out', 'Bot', 'An answer sent long ago, number ' || i,
			'sent', 'ext-history-' || i, ?2, ?2 FROM n, conversations AS c WHERE c.id = ?3`,
		`INSERT INTO channel_outbox (id, seq, message_id, conversation_id, connector, instance, idempotency_key, state, attempts,
			next_attempt_at, external_id, created_at, updated_at)
		SELECT 'ob_history_' || rowid, rowid, id, conversation_id, channel, instance, 'key-history-' || rowid, 'sent', 1, ?2, external_id, ?2, ?2
		FROM messages WHERE id LIKE 'msg_history_%' AND ?1 > 0 AND ?3 <> ''`,
	} {
		if _, err := raw.Exec(q, n, at, conv); err != nil {
			tb.Fatal(err)
		}
	}
}

// cpuTime is the CPU (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sysTime is the CPU the kernel spent for the process (system calls).
func sysTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Stime.Nano())
}
