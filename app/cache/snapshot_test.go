package cache_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"switchboard/app/cache"
	"switchboard/backend"
	"switchboard/backend/api"
)

// TestSyncer_FirstSyncTakesSnapshot: a fresh cache fills itself from the
// snapshot, reporting conversations as they come, keeps each
// conversation's newest messages and loads the older ones when asked.
func TestSyncer_FirstSyncTakesSnapshot(t *testing.T) {
	ctx := context.Background()
	e := MustOpenEngine(t, t.TempDir(), "127.0.0.1:0")
	defer e.Close()
	storeInbound(t, e, api.SnapshotMessages+30, "long")
	for i := range 5 {
		storeInbound(t, e, 2, fmt.Sprintf("short%d", i))
	}
	cl, _ := signIn(t, e)
	c := MustOpenCache(t, filepath.Join(t.TempDir(), "cache.db"))
	defer c.Close()
	w, stop := runWatchedSyncer(c, cl)
	defer stop()
	waitFor(t, "first sync", caughtUp(t, c, e))

	var engineConvs int
	e.DB.Reader().QueryRow(`SELECT COUNT(*) FROM conversations`).Scan(&engineConvs)
	convs, _, _ := c.Counts(ctx)
	if convs != engineConvs {
		t.Fatalf("the cache holds %d conversations, the engine %d", convs, engineConvs)
	}
	w.mu.Lock()
	progress := append([][2]int64(nil), w.snapshot...)
	w.mu.Unlock()
	if len(progress) == 0 || progress[len(progress)-1] != [2]int64{int64(engineConvs), int64(engineConvs)} {
		t.Fatalf("snapshot progress %v, want it to end at %d of %d conversations", progress, engineConvs, engineConvs)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i][0] < progress[i-1][0] {
			t.Fatalf("snapshot progress went back: %v", progress)
		}
	}

	// Each conversation counts the inbound messages the snapshot brought
	// as unread.
	rows, err := cache.DB(c).QueryContext(ctx, `SELECT id, unread, (SELECT COUNT(*) FROM messages m
		WHERE m.conversation_id = conversations.id AND m.data ->> '$.direction' = 'in') FROM conversations`)
	if err != nil {
		t.Fatal(err)
	}
	unread := 0
	for rows.Next() {
		var id string
		var got, want int
		if err := rows.Scan(&id, &got, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("conversation %s counts %d unread messages, holds %d inbound ones", id, got, want)
		}
		unread += got
	}
	rows.Close()
	if unread < api.SnapshotMessages {
		t.Fatalf("%d unread messages in all, want at least the long conversation's %d", unread, api.SnapshotMessages)
	}

	long, err := c.Conversations(ctx, cache.Filter{Query: "long"})
	if err != nil || len(long) != 1 {
		t.Fatalf("the long conversation: %+v %v", long, err)
	}
	id := long[0].ID
	d, _ := c.Conversation(ctx, id)
	if older, _ := c.HasOlder(ctx, id); len(d.Messages) != api.SnapshotMessages || !older {
		t.Fatalf("the snapshot brought %d messages (older on the engine: %v), want the newest %d", len(d.Messages), older, api.SnapshotMessages)
	}
	short, _ := c.Conversations(ctx, cache.Filter{Query: "short0"})
	if older, _ := c.HasOlder(ctx, short[0].ID); older {
		t.Fatal("a conversation the snapshot brought whole is marked as having older messages")
	}

	s := &cache.Syncer{Cache: c, Client: cl}
	if loaded, err := s.LoadOlder(ctx, id); err != nil || !loaded {
		t.Fatalf("load older: %v %v", loaded, err)
	}
	d, _ = c.Conversation(ctx, id)
	if older, _ := c.HasOlder(ctx, id); len(d.Messages) != api.SnapshotMessages+30 || older {
		t.Fatalf("after loading the history the cache holds %d messages (older: %v)", len(d.Messages), older)
	}
	if d.Messages[0].Text != "note long" || !d.Messages[0].CreatedAt.Before(d.Messages[len(d.Messages)-1].CreatedAt) {
		t.Fatalf("history out of order: first %+v", d.Messages[0])
	}
	if loaded, err := s.LoadOlder(ctx, id); err != nil || loaded {
		t.Fatalf("a second load asked the engine again: %v %v", loaded, err)
	}
}

// TestSyncer_BehindFloorTakesSnapshotKeepingReplies: a desktop whose cursor
// the engine pruned past takes the snapshot again instead of missing
// events, and still sends the replies written meanwhile (no reset, nothing
// held).
func TestSyncer_BehindFloorTakesSnapshotKeepingReplies(t *testing.T) {
	ctx := context.Background()
	e := MustOpenEngine(t, t.TempDir(), "127.0.0.1:0")
	defer e.Close()
	cl, u := signIn(t, e)
	c := MustOpenCache(t, filepath.Join(t.TempDir(), "cache.db"))
	defer c.Close()
	_, stop := runWatchedSyncer(c, cl)
	waitFor(t, "first sync", caughtUp(t, c, e))
	stop()
	convs, _ := c.Conversations(ctx, cache.Filter{Channel: "telegram"})
	if len(convs) == 0 {
		t.Fatal("no telegram conversation in the demo data")
	}
	if _, err := c.Queue(ctx, convs[0].ID, "behind-reply", "written while away", u, false); err != nil {
		t.Fatal(err)
	}
	cursor, _ := c.LastSeq(ctx)

	storeInbound(t, e, 3, "returning")
	// Past the retention horizon every event goes, read or not (but the newest).
	res, err := e.DB.PruneEvents(ctx, backend.PruneRequest{Now: time.Now().Add(time.Hour), Grace: time.Minute, Retention: time.Minute})
	if err != nil || res.Floor <= cursor {
		t.Fatalf("prune: floor %d (cursor %d), %v", res.Floor, cursor, err)
	}
	if page, err := cl.Sync(ctx, cursor, 0); err != nil || !page.Behind || len(page.Events) != 0 {
		t.Fatalf("the sync route does not say the cursor is behind the floor: %+v %v", page, err)
	}

	w, stop := runWatchedSyncer(c, cl)
	defer stop()
	waitFor(t, "sync past the floor", caughtUp(t, c, e))
	waitFor(t, "the reply sent", func() bool { p, _ := c.Pending(ctx); return len(p) == 0 })
	var n int
	e.DB.Reader().QueryRow(`SELECT COUNT(*) FROM messages WHERE client_id = 'behind-reply'`).Scan(&n)
	if n != 1 {
		t.Fatalf("the reply written while away is stored %d times on the engine", n)
	}
	if got, _ := c.Conversations(ctx, cache.Filter{Query: "returning"}); len(got) != 1 {
		t.Fatalf("the conversation that came while away: %+v", got)
	}
	held, _ := c.Held(ctx)
	if resets, _, _ := w.get(); len(resets) != 0 || len(held) != 0 {
		t.Fatalf("the same engine's pruned feed reset the cache (%v) or held replies (%v)", resets, held)
	}
}

// TestSyncer_LiveFeedAcknowledgesForPruning: a desktop that follows the
// live socket (and asks for no more sync pages) tells the engine how far it
// applied it, so the engine prunes past where its catch-up left off.
func TestSyncer_LiveFeedAcknowledgesForPruning(t *testing.T) {
	ctx := context.Background()
	e := MustOpenEngine(t, t.TempDir(), "127.0.0.1:0")
	defer e.Close()
	cl, _ := signIn(t, e)
	c := MustOpenCache(t, filepath.Join(t.TempDir(), "cache.db"))
	defer c.Close()
	_, stop := runWatchedSyncer(c, cl, func(s *cache.Syncer) { s.AckEvery = time.Nanosecond })
	defer stop()
	waitFor(t, "first sync", caughtUp(t, c, e))
	caught, _ := c.LastSeq(ctx)
	storeInbound(t, e, 5, "live")
	waitFor(t, "the live events", caughtUp(t, c, e))
	waitFor(t, "pruning past the catch-up's position", func() bool {
		// An hour on, everything is past the grace period.
		res, err := e.DB.PruneEvents(ctx, backend.PruneRequest{Now: time.Now().Add(time.Hour), Grace: time.Minute, Retention: 30 * 24 * time.Hour})
		return err == nil && res.Floor > caught
	})
}
