package cache_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/app/cache"
	"switchboard/app/client"
	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/server"
)

// testKey is the engines' secret key: one for the whole run, so an engine
// reopened on the same directory reads its secrets.
var testKey = secret.MustNew()

func MustOpenEngine(tb testing.TB, dir, addr string) *server.Server {
	tb.Helper()
	s, err := server.Open(context.Background(), server.Config{
		Addr: addr, DataDir: dir, Demo: true, PasswordCost: 4, SecretKey: testKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func MustOpenCache(tb testing.TB, path string) *cache.Cache {
	tb.Helper()
	c, err := cache.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// runSyncer starts a syncer (after the options changed it) and returns a
// stop func that waits for it.
func runSyncer(c *cache.Cache, cl *client.Client, opts ...func(*cache.Syncer)) (*cache.Syncer, func()) {
	s := &cache.Syncer{Cache: c, Client: cl, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	return s, func() { cancel(); <-done }
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func caughtUp(tb testing.TB, c *cache.Cache, e *server.Server) func() bool {
	return func() bool {
		want, _ := e.DB.LastSeq(context.Background())
		got, _ := c.LastSeq(context.Background())
		return got == want
	}
}

// feedLength pages through the user's feed after since and counts the
// events it holds.
func feedLength(tb testing.TB, cl *client.Client, since int64) int64 {
	return feedLengthUpTo(tb, cl, since, math.MaxInt64)
}

// feedLengthUpTo counts the events of the user's feed after since and at or
// below upto.
func feedLengthUpTo(tb testing.TB, cl *client.Client, since, upto int64) int64 {
	tb.Helper()
	var n int64
	for {
		page, err := cl.Sync(context.Background(), since, 0)
		if err != nil {
			tb.Fatal(err)
		}
		for _, ev := range page.Events {
			if ev.Seq <= upto {
				n++
			}
		}
		since = page.Next
		if !page.More || since >= upto {
			return n
		}
	}
}

// fetchedEachOnce waits until the syncer has fetched exactly the feed's
// events after since up to the cache's position, each once. The engine keeps
// adding events of its own (routing re-offers, flows), so the count is taken
// at a position the cache holds still across the reading: a page already
// counted but not yet applied, or an event that arrives meanwhile, is waited
// out, while an event fetched twice keeps the counts apart until the deadline.
func fetchedEachOnce(tb testing.TB, s *cache.Syncer, c *cache.Cache, cl *client.Client, since int64) int64 {
	tb.Helper()
	var got, want, pos int64
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		pos, _ = c.LastSeq(context.Background())
		got, want = s.Fetched.Load(), feedLengthUpTo(tb, cl, since, pos)
		if again, _ := c.LastSeq(context.Background()); again == pos && got == want {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatalf("fetched %d events after %d; the feed holds %d up to the cache's position %d", got, since, want, pos)
	return 0
}

func storeInbound(tb testing.TB, e *server.Server, n int, prefix string) {
	tb.Helper()
	for i := 0; i < n; i++ {
		if _, _, err := e.DB.StoreInbound(context.Background(), &backend.InboundMessage{
			Channel: "telegram", Instance: "bot", ExternalUserID: prefix, ExternalID: fmt.Sprintf("%s-%d", prefix, i), Text: "note " + prefix,
		}); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestSyncer_ResumesAfterRestartWithoutRefetching(t *testing.T) {
	ctx := context.Background()
	engineDir, cachePath := t.TempDir(), filepath.Join(t.TempDir(), "cache.db")

	// The admin reads every conversation, so new ones reach the cache.
	e := MustOpenEngine(t, engineDir, "127.0.0.1:0")
	cl := client.New(e.URL(), "")
	if _, err := cl.SignIn(ctx, "admin@example.com", server.DemoPassword); err != nil {
		t.Fatal(err)
	}
	c := MustOpenCache(t, cachePath)
	s, stop := runSyncer(c, cl)
	waitFor(t, "initial sync", caughtUp(t, c, e))
	// The first sync is a snapshot: the entities as they stand, never more
	// than replaying the feed would fetch.
	if first, replay := s.Fetched.Load(), feedLength(t, cl, 0); first == 0 || first > replay {
		t.Fatalf("initial sync fetched %d events; replaying the feed would fetch %d", first, replay)
	}
	storeInbound(t, e, 3, "live") // arrives over the WebSocket
	waitFor(t, "live events", caughtUp(t, c, e))
	stop()
	c.Close()
	e.Close()

	// Both sides restart; the engine gets new messages while the desktop is away.
	e = MustOpenEngine(t, engineDir, "127.0.0.1:0")
	defer e.Close()
	storeInbound(t, e, 5, "away") // 1 contact + 5 messages + 5 conversation updates
	c = MustOpenCache(t, cachePath)
	defer c.Close()
	cursor, _ := c.LastSeq(ctx)
	s, stop = runSyncer(c, client.New(e.URL(), cl.Token))
	defer stop()
	waitFor(t, "sync after restart", caughtUp(t, c, e))
	// The engine's own work on restart (routing re-offers) adds events too;
	// the cache must fetch exactly those after its cursor, nothing twice.
	if got := fetchedEachOnce(t, s, c, client.New(e.URL(), cl.Token), cursor); got < 11 {
		t.Fatalf("after restart fetched %d events after cursor %d, fewer than the 11 stored while away", got, cursor)
	}
	_, cachedMsgs, _ := c.Counts(ctx)
	var engineMsgs int
	e.DB.Reader().QueryRow(`SELECT COUNT(*) FROM messages`).Scan(&engineMsgs)
	if cachedMsgs != engineMsgs {
		t.Fatalf("cache has %d messages, engine %d", cachedMsgs, engineMsgs)
	}
	sums, err := c.Conversations(ctx, cache.Filter{Query: "away"})
	if err != nil || len(sums) != 1 || sums[0].Unread != 5 {
		t.Fatalf("search for the new conversation: %+v %v", sums, err)
	}
}

func TestSyncer_OfflineRepliesAreDeliveredOnce(t *testing.T) {
	ctx := context.Background()
	engineDir, cachePath := t.TempDir(), filepath.Join(t.TempDir(), "cache.db")
	e := MustOpenEngine(t, engineDir, "127.0.0.1:0")
	addr := e.URL()[len("http://"):]
	cl := client.New(e.URL(), "")
	res, err := cl.SignIn(ctx, "ana@example.com", server.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	c := MustOpenCache(t, cachePath)
	defer c.Close()
	s, stop := runSyncer(c, cl)
	defer stop()
	waitFor(t, "initial sync", caughtUp(t, c, e))
	convs, _ := c.Conversations(ctx, cache.Filter{Channel: "telegram"})
	if len(convs) == 0 {
		t.Fatal("no telegram conversation in the demo data")
	}
	conv := convs[0].ID

	e.Close()
	waitFor(t, "offline state", func() bool { return s.State() != cache.StateOnline })
	for i, text := range []string{"first offline reply", "second offline reply"} {
		if _, err := c.Queue(ctx, conv, fmt.Sprintf("offline-%d", i), text, res.User, false); err != nil {
			t.Fatal(err)
		}
		s.Kick()
	}
	d, _ := c.Conversation(ctx, conv)
	if n := len(d.Messages); d.Messages[n-1].Status != backend.DeliveryQueued || d.Messages[n-1].Text != "second offline reply" {
		t.Fatalf("offline replies not shown as queued: %+v", d.Messages[n-1])
	}

	e = MustOpenEngine(t, engineDir, addr) // back on the same address
	defer e.Close()
	waitFor(t, "outbox drained", func() bool { p, _ := c.Pending(ctx); return len(p) == 0 })
	waitFor(t, "sync after reconnect", caughtUp(t, c, e))
	for i := range 2 {
		var n int
		e.DB.Reader().QueryRow(`SELECT COUNT(*) FROM messages WHERE client_id = ?`, fmt.Sprintf("offline-%d", i)).Scan(&n)
		if n != 1 {
			t.Fatalf("reply %d stored %d times on the engine", i, n)
		}
	}
	d, _ = c.Conversation(ctx, conv)
	var local, sent int
	for _, m := range d.Messages {
		if len(m.ID) > 6 && m.ID[:6] == "local:" {
			local++
		}
		if m.ClientID == "offline-0" || m.ClientID == "offline-1" {
			sent++
		}
	}
	if local != 0 || sent != 2 {
		t.Fatalf("cache shows %d local placeholders and %d engine copies; want 0 and 2", local, sent)
	}
}

// sendHeld answers a reply's POST only once the cache has applied
// everything the engine stored, the reply's own copy included: the feed
// beats the send's answer, as it may on a loaded machine.
type sendHeld struct {
	next     http.RoundTripper
	caughtUp func() bool
	// seq is the cache's cursor when the held answer was let go.
	seq func() int64
	at  atomic.Int64
}

func (h *sendHeld) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := h.next.RoundTrip(r)
	if err != nil || r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/messages") {
		return res, err
	}
	deadline := time.Now().Add(20 * time.Second)
	for !h.caughtUp() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	h.at.Store(h.seq())
	return res, err
}

// The app shows how many replies wait in the outbox from what OnChange
// reports. A reply whose engine copy reached the cache before the send's
// answer leaves the outbox after the last event was applied; OnChange must
// still say so, or the agent is told a reply waits that was sent.
func TestSyncer_SaysWhenASentReplyLeftTheOutbox(t *testing.T) {
	ctx := context.Background()
	e := MustOpenEngine(t, t.TempDir(), "127.0.0.1:0")
	defer e.Close()
	cl, u := signIn(t, e)
	c := MustOpenCache(t, filepath.Join(t.TempDir(), "cache.db"))
	defer c.Close()
	held := &sendHeld{next: http.DefaultTransport, caughtUp: caughtUp(t, c, e), seq: func() int64 { s, _ := c.LastSeq(ctx); return s }}
	cl.HTTP.Transport = held

	type report struct {
		seq     int64
		pending int
	}
	var mu sync.Mutex
	var reports []report
	s, stop := runSyncer(c, cl, func(s *cache.Syncer) {
		s.OnChange = func(seq int64) {
			p, err := c.Pending(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			reports = append(reports, report{seq, len(p)})
			mu.Unlock()
		}
	})
	defer stop()
	waitFor(t, "initial sync", caughtUp(t, c, e))
	waitFor(t, "online", func() bool { return s.State() == cache.StateOnline })
	convs, _ := c.Conversations(ctx, cache.Filter{Channel: "telegram"})
	if len(convs) == 0 {
		t.Fatal("no telegram conversation in the demo data")
	}
	if _, err := c.Queue(ctx, convs[0].ID, "reply-1", "a reply whose copy comes first", u, false); err != nil {
		t.Fatal(err)
	}
	s.Kick()
	waitFor(t, "the send's answer", func() bool { return held.at.Load() > 0 })
	waitFor(t, "the outbox to empty", func() bool { p, _ := c.Pending(ctx); return len(p) == 0 })
	// The answer came after the cache had applied the reply's copy, so only
	// a report made for the outbox itself can see it empty at that cursor.
	waitFor(t, "OnChange to report the outbox empty", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range reports {
			if r.pending == 0 && r.seq >= held.at.Load() {
				return true
			}
		}
		return false
	})
}
