package cache_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"switchboard/app/cache"
	"switchboard/backend"
)

// event builds a change-feed event carrying v.
func event(seq int64, typ, id string, v any) backend.Event {
	data, _ := json.Marshal(v)
	return backend.Event{Seq: seq, Type: typ, EntityID: id, Data: data}
}

func TestApply_IdempotentAndCountsUnread(t *testing.T) {
	ctx := context.Background()
	c := MustOpenCache(t, filepath.Join(t.TempDir(), "cache.db"))
	defer c.Close()
	now := time.Now().UTC()
	events := []backend.Event{
		event(1, backend.EventContactUpserted, "ct_1", backend.Contact{ID: "ct_1", Name: "Maria"}),
		event(2, backend.EventMessageUpserted, "m1", backend.Message{ID: "m1", ConversationID: "cv_1", Direction: "in", Text: "where is my parcel", CreatedAt: now}),
		event(3, backend.EventConversationUpserted, "cv_1", backend.Conversation{ID: "cv_1", ContactID: "ct_1", Channel: "sms.twilio", Status: "open", LastMessageAt: now}),
		event(4, backend.EventMessageUpserted, "m2", backend.Message{ID: "m2", ConversationID: "cv_1", Direction: "in", Text: "hello?", CreatedAt: now.Add(time.Second)}),
		event(5, "task.upserted", "tk_1", map[string]string{"id": "tk_1"}),
	}
	n, err := c.Apply(ctx, events)
	if err != nil || n != 5 {
		t.Fatalf("applied %d, %v", n, err)
	}
	if n, err := c.Apply(ctx, events); err != nil || n != 0 {
		t.Fatalf("second apply changed %d events (%v)", n, err)
	}
	list, err := c.Conversations(ctx, cache.Filter{Channel: "sms"})
	if err != nil || len(list) != 1 || list[0].Unread != 2 || list[0].ContactName != "Maria" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	hits, err := c.Search(ctx, "parc", 10)
	if err != nil || len(hits) != 1 || hits[0].MessageID != "m1" || hits[0].Snippet != "where is my [parcel]" {
		t.Fatalf("search = %+v, %v", hits, err)
	}
	for _, q := range []string{`"`, `AND OR`, `*`, `NEAR(`} {
		if _, err := c.Search(ctx, q, 10); err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
	}
	if seq, _ := c.LastSeq(ctx); seq != 5 {
		t.Fatalf("cursor = %d", seq)
	}
}

func FuzzSearchQuery(f *testing.F) {
	c, err := cache.Open(context.Background(), filepath.Join(f.TempDir(), "cache.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer c.Close()
	for _, s := range []string{"hello", `"quoted`, "a OR b", "NEAR(x y)", "col:val", "^start", "-x", "日本語", "x*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := c.Search(context.Background(), q, 5); err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		if _, err := c.Conversations(context.Background(), cache.Filter{Query: q}); err != nil {
			t.Fatalf("conversations %q: %v", q, err)
		}
	})
}

// TestOutbox_QueuedAndRejected: a queued reply shows in the list's preview;
// one the engine refuses is marked failed with the engine's code and
// reason, from which the UI words it.
func TestOutbox_QueuedAndRejected(t *testing.T) {
	ctx := context.Background()
	c := MustOpenCache(t, filepath.Join(t.TempDir(), "cache.db"))
	defer c.Close()
	now := time.Now().UTC()
	if _, err := c.Apply(ctx, []backend.Event{
		event(1, backend.EventContactUpserted, "ct_1", backend.Contact{ID: "ct_1", Name: "Maria"}),
		event(2, backend.EventConversationUpserted, "cv_1", backend.Conversation{ID: "cv_1", ContactID: "ct_1", Channel: "sms.twilio", Status: "open", LastMessageAt: now}),
	}); err != nil {
		t.Fatal(err)
	}
	me := backend.User{ID: "u1", Name: "Ana"}
	if _, err := c.Queue(ctx, "cv_1", "cl-1", "On its way!", me, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Queue(ctx, "cv_1", "cl-2", "private thought", me, true); err != nil {
		t.Fatal(err)
	}
	list, _ := c.Conversations(ctx, cache.Filter{})
	if len(list) != 1 || list[0].Queued != 2 || list[0].QueuedText != "On its way!" {
		t.Fatalf("list = %+v", list)
	}
	refusal := backend.ReasonErrorf(backend.EConflict, backend.ReasonTaskTaken, "Task task_9 is held by wk_2.")
	if err := c.Rejected(ctx, "cl-1", refusal); err != nil {
		t.Fatal(err)
	}
	rows, _ := c.Conversations(ctx, cache.Filter{})
	if rows[0].Queued != 1 || rows[0].QueuedText != "" {
		t.Fatalf("after the refusal the list shows %+v", rows[0])
	}
	var data string
	var raw map[string]any
	if err := cache.DB(c).QueryRow(`SELECT data FROM messages WHERE id = 'local:cl-1'`).Scan(&data); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal([]byte(data), &raw)
	if raw["status"] != "failed" || raw["errorCode"] != "conflict" || raw["errorReason"] != "task_taken" || raw["error"] == "" {
		t.Fatalf("refused reply = %s", data)
	}
}
