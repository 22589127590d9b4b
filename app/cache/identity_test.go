package cache_test

import (
	"context"

	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/app/cache"
	"switchboard/app/client"
	"switchboard/backend"
	"switchboard/backend/server"
)

// syncerWith starts a syncer that records resets, progress and changes.
type watched struct {
	mu       sync.Mutex
	resets   []int
	progress [][2]int64
	// snapshot is the snapshot's progress in conversations.
	snapshot [][2]int64
	changes  int
}

func (w *watched) get() (resets []int, progress [][2]int64, changes int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.resets...), append([][2]int64(nil), w.progress...), w.changes
}

func runWatchedSyncer(c *cache.Cache, cl *client.Client, opts ...func(*cache.Syncer)) (*watched, func()) {
	w := &watched{}
	s := &cache.Syncer{Cache: c, Client: cl, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		Logger:  slog.New(slog.DiscardHandler),
		OnReset: func(held int) { w.mu.Lock(); w.resets = append(w.resets, held); w.mu.Unlock() },
		OnProgress: func(done, total int64) {
			w.mu.Lock()
			w.progress = append(w.progress, [2]int64{done, total})
			w.mu.Unlock()
		},
		OnSnapshotProgress: func(done, total int64) {
			w.mu.Lock()
			w.snapshot = append(w.snapshot, [2]int64{done, total})
			w.mu.Unlock()
		},
		OnChange: func(int64) { w.mu.Lock(); w.changes++; w.mu.Unlock() },
	}
	for _, o := range opts {
		o(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	return w, func() { cancel(); <-done }
}

// signIn signs in as the demo admin, whose feed carries every
// conversation (an agent's carries only their own work).
func signIn(tb testing.TB, e *server.Server) (*client.Client, backend.User) {
	tb.Helper()
	cl := client.New(e.URL(), "")
	res, err := cl.SignIn(context.Background(), "admin@example.com", server.DemoPassword)
	if err != nil {
		tb.Fatal(err)
	}
	return cl, res.User
}

// TestSyncer_ReplacedEngineStartsOverAndHoldsReplies: the engine's store
// is replaced while the desktop is offline with a reply in its outbox. On
// reconnect the cache drops the old engine's data, syncs the new one from
// the start, and keeps the reply aside without sending it anywhere.
func TestSyncer_ReplacedEngineStartsOverAndHoldsReplies(t *testing.T) {
	ctx := context.Background()
	cachePath := filepath.Join(t.TempDir(), "cache.db")
	old := MustOpenEngine(t, t.TempDir(), "127.0.0.1:0")
	addr := strings.TrimPrefix(old.URL(), "http://")
	storeInbound(t, old, 2, "only-on-the-old-engine")
	cl, user := signIn(t, old)
	c := MustOpenCache(t, cachePath)
	defer c.Close()
	w, stop := runWatchedSyncer(c, cl)
	waitFor(t, "initial sync", caughtUp(t, c, old))
	stop()
	oldID, _ := c.Followed(ctx)
	convs, _ := c.Conversations(ctx, cache.Filter{Query: "only-on-the-old-engine"})
	if len(convs) != 1 {
		t.Fatalf("old conversation not cached: %+v", convs)
	}
	if _, err := c.Queue(ctx, convs[0].ID, "held-1", "written for the old engine", user, false); err != nil {
		t.Fatal(err)
	}
	old.Close()

	// Another store on the same address: more events than the cache has seen, so
	// only the engine's identity tells them apart.
	fresh := MustOpenEngine(t, t.TempDir(), addr)
	defer fresh.Close()
	storeInbound(t, fresh, 40, "new-engine")
	cl, _ = signIn(t, fresh)
	w, stop = runWatchedSyncer(c, cl)
	defer stop()
	waitFor(t, "sync with the new engine", caughtUp(t, c, fresh))
	if resets, _, _ := w.get(); len(resets) != 1 || resets[0] != 1 {
		t.Fatalf("resets = %v, want one holding 1 reply", resets)
	}
	if id, _ := c.Followed(ctx); id == oldID || id.EngineID == "" {
		t.Fatalf("the cache still follows %+v", id)
	}
	if got, _ := c.Conversations(ctx, cache.Filter{Query: "only-on-the-old-engine"}); len(got) != 0 {
		t.Fatalf("old engine's conversations survived: %+v", got)
	}
	if got, _ := c.Conversations(ctx, cache.Filter{Query: "new-engine"}); len(got) != 1 {
		t.Fatalf("the new engine's conversation is missing: %+v", got)
	}
	_, cached, _ := c.Counts(ctx)
	var engineMsgs int
	fresh.DB.Reader().QueryRow(`SELECT COUNT(*) FROM messages`).Scan(&engineMsgs)
	if cached != engineMsgs {
		t.Fatalf("cache has %d messages, the new engine %d", cached, engineMsgs)
	}
	held, _ := c.Held(ctx)
	if len(held) != 1 || held[0].Text != "written for the old engine" || held[0].ContactName == "" {
		t.Fatalf("held = %+v", held)
	}
	if p, _ := c.Pending(ctx); len(p) != 0 {
		t.Fatalf("the outbox still holds %+v", p)
	}
	var sent int
	fresh.DB.Reader().QueryRow(`SELECT COUNT(*) FROM messages WHERE client_id = 'held-1' OR text = 'written for the old engine'`).Scan(&sent)
	if sent != 0 {
		t.Fatal("the held reply reached the new engine")
	}
	if err := c.DiscardHeld(ctx, "held-1"); err != nil {
		t.Fatal(err)
	}
	if err := c.DiscardHeld(ctx, "held-1"); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("discard twice: %v", err)
	}
}

// TestSyncer_OlderBackupStartsOver: the engine's store is restored from a
// backup older than what the cache has seen (same identity, lower head).
func TestSyncer_OlderBackupStartsOver(t *testing.T) {
	ctx := context.Background()
	engineDir, backupDir := t.TempDir(), t.TempDir()
	e := MustOpenEngine(t, engineDir, "127.0.0.1:0")
	addr := strings.TrimPrefix(e.URL(), "http://")
	e.Close()
	copyDir(t, engineDir, backupDir)

	e = MustOpenEngine(t, engineDir, addr)
	storeInbound(t, e, 30, "after-the-backup")
	cl, _ := signIn(t, e)
	c := MustOpenCache(t, filepath.Join(t.TempDir(), "cache.db"))
	defer c.Close()
	_, stop := runWatchedSyncer(c, cl)
	waitFor(t, "initial sync", caughtUp(t, c, e))
	stop()
	e.Close()

	copyDir(t, backupDir, engineDir)
	e = MustOpenEngine(t, engineDir, addr)
	defer e.Close()
	cl, _ = signIn(t, e)
	w, stop := runWatchedSyncer(c, cl)
	defer stop()
	waitFor(t, "sync with the restored engine", func() bool { r, _, _ := w.get(); return len(r) == 1 && caughtUp(t, c, e)() })
	if got, _ := c.Conversations(ctx, cache.Filter{Query: "after-the-backup"}); len(got) != 0 {
		t.Fatalf("the cache kept what the backup never had: %+v", got)
	}
}

// TestSyncer_LongCatchUpReportsProgressAndChangesOnce: a cache far behind
// (the first sync, a snapshot, done before) reports how far its catch-up
// over the feed has come, and tells the inbox once, at the end.
func TestSyncer_LongCatchUpReportsProgressAndChangesOnce(t *testing.T) {
	e := MustOpenEngine(t, t.TempDir(), "127.0.0.1:0")
	defer e.Close()
	cl, _ := signIn(t, e)
	c := MustOpenCache(t, filepath.Join(t.TempDir(), "cache.db"))
	defer c.Close()
	_, stop := runWatchedSyncer(c, cl)
	waitFor(t, "first sync", caughtUp(t, c, e))
	stop()
	cursor, _ := c.LastSeq(context.Background())
	// About 300 events: three pages of 100 (the engine's pages are larger;
	// small ones keep the test's setup short).
	storeInbound(t, e, 150, "bulk")
	head, _ := e.DB.LastSeq(context.Background())
	w, stop := runWatchedSyncer(c, cl, func(s *cache.Syncer) { s.PageSize = 100 })
	defer stop()
	waitFor(t, "catch-up", caughtUp(t, c, e))
	waitFor(t, "the inbox told", func() bool { _, _, n := w.get(); return n >= 1 })
	_, progress, changes := w.get()
	if len(progress) < 3 {
		t.Fatalf("progress = %v, want a report per page and one at the end", progress)
	}
	for i, p := range progress {
		if p[0] > p[1] || (i > 0 && p[0] <= progress[i-1][0]) || p[1] < head-cursor-1 {
			t.Fatalf("progress %v is not steady growth toward about %d", progress, head-cursor)
		}
	}
	if last := progress[len(progress)-1]; last[0] != last[1] {
		t.Fatalf("progress ended at %v", last)
	}
	if changes != 1 {
		t.Fatalf("the inbox was told %d times during the first sync, want once", changes)
	}
}

func copyDir(tb testing.TB, from, to string) {
	tb.Helper()
	entries, err := os.ReadDir(to)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		os.Remove(filepath.Join(to, e.Name()))
	}
	entries, err = os.ReadDir(from)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
}
