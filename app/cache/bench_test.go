package cache_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"switchboard/app/cache"
	"switchboard/app/client"
	"switchboard/backend"
	"switchboard/backend/server"
)

// vocabulary makes synthetic message text with a realistic spread of words.
var vocabulary = strings.Fields(`order parcel delivery refund invoice address payment card account password
	shipping tracking number return exchange size colour price discount coupon store opening hours weekend
	appointment booking cancel change update email phone help please thanks hello urgent late damaged missing
	wrong item replacement warranty support agent manager subscription plan upgrade downgrade billing receipt`)

func sentence(r *rand.Rand, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = vocabulary[r.IntN(len(vocabulary))]
	}
	return strings.Join(w, " ")
}

// buildCache fills a cache file with synthetic change-feed events:
// messages spread over conversations, as a long-running desk would have.
func buildCache(tb testing.TB, path string, messages, conversations int) {
	tb.Helper()
	ctx := context.Background()
	c, err := cache.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var seq int64
	var batch []backend.Event
	add := func(typ, id string, v any) {
		seq++
		data, _ := json.Marshal(v)
		batch = append(batch, backend.Event{Seq: seq, Type: typ, EntityID: id, Data: data})
		if len(batch) == 10000 {
			if _, err := c.Apply(ctx, batch); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for i := 0; i < conversations; i++ {
		ct := fmt.Sprintf("ct_%d", i)
		add(backend.EventContactUpserted, ct, backend.Contact{ID: ct, Name: fmt.Sprintf("Customer %d", i)})
	}
	for i := 0; i < messages; i++ {
		cv := fmt.Sprintf("cv_%d", i%conversations)
		at := base.Add(time.Duration(i) * time.Second)
		dir := backend.DirectionIn
		if i%3 == 0 {
			dir = backend.DirectionOut
		}
		id := fmt.Sprintf("msg_%d", i)
		add(backend.EventMessageUpserted, id, backend.Message{ID: id, ConversationID: cv, Direction: dir, Text: sentence(r, 8+r.IntN(12)), Status: "delivered", CreatedAt: at})
		if i >= messages-conversations { // the newest message of each conversation
			add(backend.EventConversationUpserted, cv, backend.Conversation{ID: cv, ContactID: fmt.Sprintf("ct_%d", i%conversations),
				Channel: "sms.twilio", Status: "open", LastMessageAt: at})
		}
	}
	if _, err := c.Apply(ctx, batch); err != nil {
		tb.Fatal(err)
	}
}

// built caches synthetic cache files across a benchmark's rounds (the
// testing package calls a benchmark more than once); TestMain removes them.
var built = struct {
	sync.Mutex
	dir   string
	files map[string]string
}{files: map[string]string{}}

func builtCache(b *testing.B, messages, conversations int) string {
	b.Helper()
	built.Lock()
	defer built.Unlock()
	key := fmt.Sprintf("%d-%d", messages, conversations)
	if path, ok := built.files[key]; ok {
		return path
	}
	if built.dir == "" {
		dir, err := os.MkdirTemp("", "switchboard-cache-bench-")
		if err != nil {
			b.Fatal(err)
		}
		built.dir = dir
	}
	path := filepath.Join(built.dir, key+".db")
	start := time.Now()
	buildCache(b, path, messages, conversations)
	b.Logf("built a cache of %d messages in %v", messages, time.Since(start).Round(time.Second))
	built.files[key] = path
	return path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// BenchmarkSearch1M searches 1,000,000 cached messages (FTS5).
func BenchmarkSearch1M(b *testing.B) {
	path := builtCache(b, 1_000_000, 5000)
	c, err := cache.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	queries := []string{"refund damaged", "warranty replac", "invoice", "urgent late parcel"}
	var total int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, q := range queries {
			hits, err := c.Search(context.Background(), q, 50)
			if err != nil {
				b.Fatal(err)
			}
			total += len(hits)
		}
	}
	b.StopTimer()
	if total == 0 {
		b.Fatal("searches found nothing")
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(queries))/1000, "ms/search")
}

// BenchmarkInitialSync100k syncs a fresh cache from a local engine holding
// 100,000 messages in 2,000 conversations (50 each, as many as a snapshot
// holds of a conversation, so every message comes), over the real HTTP
// API, as the admin (who reads every conversation): the Syncer's catch-up,
// a snapshot and then the feed from its sequence. It also reports when the
// inbox first had conversations to show.
func BenchmarkInitialSync100k(b *testing.B) {
	ctx := context.Background()
	e := MustOpenEngine(b, b.TempDir(), "127.0.0.1:0")
	defer e.Close()
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 100; i++ {
		batch := make([]*backend.InboundMessage, 1000)
		for j := range batch {
			n := i*1000 + j
			batch[j] = &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: fmt.Sprint(n % 2000),
				ExternalID: fmt.Sprint(n), Text: sentence(r, 12)}
		}
		if _, err := e.DB.ImportInbound(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	if !*busyEngine {
		waitSettled(b, e)
	}
	cl := client.New(e.URL(), "")
	if _, err := cl.SignIn(ctx, "admin@example.com", server.DemoPassword); err != nil {
		b.Fatal(err)
	}
	var firstInbox time.Duration
	cpuBefore := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := MustOpenCache(b, filepath.Join(b.TempDir(), fmt.Sprintf("cache-%d.db", i)))
		began, shown := time.Now(), time.Duration(0)
		s := &cache.Syncer{Cache: c, Client: cl, Logger: slog.New(slog.DiscardHandler), OnChange: func(int64) {
			if shown == 0 {
				if list, _ := c.Conversations(ctx, cache.Filter{Limit: 50}); len(list) > 0 {
					shown = time.Since(began)
				}
			}
		}}
		if err := cache.CatchUp(s, ctx); err != nil {
			b.Fatal(err)
		}
		firstInbox += shown
		_, msgs, _ := c.Counts(ctx)
		if msgs < 100_000 {
			b.Fatalf("synced %d messages", msgs)
		}
		c.Close()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/sync")
	b.ReportMetric(firstInbox.Seconds()/float64(b.N), "s-to-first-inbox")
	b.ReportMetric((cpuTime()-cpuBefore).Seconds()/float64(b.N), "cpu-s/sync")
}

// busyEngine makes BenchmarkInitialSync100k start syncing as soon as the
// messages are stored, while the engine still hands them to their flows.
var busyEngine = flag.Bool("busy-engine", false, "BenchmarkInitialSync100k: sync while the engine still works on the seeded messages")

// waitSettled waits until the engine has finished with the messages just
// stored, as a new agent meets it: every inbound message handed to its
// flow (the dispatcher's durable cursor past the last one, none pending),
// no reply due in the outbox and no transaction waiting for the store's
// writer. Tasks that wait for an agent are work no one does while nobody
// is signed in; they stay.
func waitSettled(b *testing.B, e *server.Server) {
	b.Helper()
	ctx := context.Background()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Minute)
	for {
		settled, why, err := engineSettled(ctx, e)
		if err != nil {
			b.Fatal(err)
		}
		if settled {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			b.Fatalf("the engine did not settle: %s", why)
		}
	}
}

// engineSettled reports whether the engine has no inbound, outbox or
// writer backlog, and otherwise what is left.
func engineSettled(ctx context.Context, e *server.Server) (bool, string, error) {
	cursor, err := e.DB.ChannelCursor(ctx, "inbound.dispatch")
	if err != nil {
		return false, "", err
	}
	unread, _, err := e.DB.InboundAfter(ctx, cursor, 1)
	if err != nil {
		return false, "", err
	}
	bl, err := e.DB.Backlog(ctx, time.Now())
	if err != nil {
		return false, "", err
	}
	in, w := e.Channels.InboundBacklog(), e.DB.WriterStats()
	why := fmt.Sprintf("inbound cursor %d with messages after it: %v, inbound pending %d, outbox due %d, writer queue %d",
		cursor, len(unread) > 0, in.Pending, bl.OutboxDue, w.Queued)
	return len(unread) == 0 && in.Pending == 0 && bl.OutboxDue == 0 && w.Queued == 0, why, nil
}

// cpuTime is the CPU time (user and system) this process has used: the
// engine's and the desktop's together, in a benchmark that runs both.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStartInbox100k starts a fresh process that opens a cache of
// 100,000 messages, lists the inbox and opens the newest conversation: the
// Go side of "app start to inbox shown". It reports that time and the
// process's resident memory.
func BenchmarkStartInbox100k(b *testing.B) {
	path := builtCache(b, 100_000, 2000)
	var ms, rss float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperOpenInbox$", "-test.v")
		cmd.Env = append(os.Environ(), "SWITCHBOARD_BENCH_CACHE="+path)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("child: %v\n%s", err, out)
		}
		sc := bufio.NewScanner(strings.NewReader(string(out)))
		for sc.Scan() {
			var m, r float64
			if n, _ := fmt.Sscanf(strings.TrimSpace(sc.Text()), "inbox-ms=%f rss-kib=%f", &m, &r); n == 2 {
				ms, rss = ms+m, rss+r
			}
		}
	}
	if ms == 0 {
		b.Fatal("the child reported nothing")
	}
	b.ReportMetric(ms/float64(b.N), "ms-to-inbox")
	b.ReportMetric(rss/float64(b.N)/1024, "MiB-rss")
}

// TestHelperOpenInbox is BenchmarkStartInbox100k's child process.
func TestHelperOpenInbox(t *testing.T) {
	path := os.Getenv("SWITCHBOARD_BENCH_CACHE")
	if path == "" {
		t.Skip("only run as BenchmarkStartInbox100k's child")
	}
	start := time.Now()
	ctx := context.Background()
	c, err := cache.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	list, err := c.Conversations(ctx, cache.Filter{})
	if err != nil || len(list) == 0 {
		t.Fatal(list, err)
	}
	d, err := c.Conversation(ctx, list[0].ID)
	if err != nil || len(d.Messages) == 0 {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	status, _ := os.ReadFile("/proc/self/status")
	var rss float64
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:")), "%f", &rss)
		}
	}
	fmt.Printf("inbox-ms=%.2f rss-kib=%.0f\n", float64(elapsed.Microseconds())/1000, rss)
}

// snapshotEvents is a snapshot as the engine streams it: conversations
// newest first, each with its contact, itself and its messages (oldest
// first), every third message a reply.
func snapshotEvents(conversations, perConversation int) []backend.Event {
	r := rand.New(rand.NewPCG(5, 6))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []backend.Event
	add := func(typ, id string, v any) {
		data, _ := json.Marshal(v)
		out = append(out, backend.Event{Type: typ, EntityID: id, Data: data})
	}
	for i := range conversations {
		ct, cv := fmt.Sprintf("ct_%d", i), fmt.Sprintf("cv_%d", i)
		add(backend.EventContactUpserted, ct, backend.Contact{ID: ct, Name: fmt.Sprintf("Customer %d", i)})
		last := base.Add(time.Duration(conversations-i) * time.Hour)
		add(backend.EventConversationUpserted, cv, backend.Conversation{ID: cv, ContactID: ct, Channel: "telegram", Status: "open", LastMessageAt: last})
		for j := range perConversation {
			dir := backend.DirectionIn
			if j%3 == 0 {
				dir = backend.DirectionOut
			}
			id := fmt.Sprintf("msg_%d_%d", i, j)
			add(backend.EventMessageUpserted, id, backend.Message{ID: id, ConversationID: cv, ContactID: ct, Direction: dir,
				Text: sentence(r, 12), Status: "delivered", CreatedAt: last.Add(time.Duration(j-perConversation) * time.Second)})
		}
	}
	return out
}

// BenchmarkApplySnapshot100k applies a snapshot of 100,000 messages (2,000
// conversations of 50) to a fresh cache in the Syncer's batches: the
// desktop's share of a first sync, without the network and the engine.
func BenchmarkApplySnapshot100k(b *testing.B) {
	ctx := context.Background()
	events := snapshotEvents(2000, 50)
	cpuBefore := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := MustOpenCache(b, filepath.Join(b.TempDir(), fmt.Sprintf("cache-%d.db", i)))
		if err := c.BeginSnapshot(ctx, backend.FeedIdentity{EngineID: "e", Epoch: "1"}); err != nil {
			b.Fatal(err)
		}
		for batch := range slices.Chunk(events, 10000) {
			if err := c.ApplySnapshot(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if _, msgs, _ := c.Counts(ctx); msgs != 100_000 {
			b.Fatalf("applied %d messages", msgs)
		}
		c.Close()
		b.StartTimer()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/snapshot")
	b.ReportMetric((cpuTime()-cpuBefore).Seconds()/float64(b.N), "cpu-s/snapshot")
}
