package storetest

import (
	"context"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/secret"
)

// testFeedIdentity: a store keeps its feed's identity across reopening; a
// new store has another.
func testFeedIdentity(t *testing.T, h harness) {
	ctx := context.Background()
	where, key := h.b.New(t), secret.MustNew()
	first := h.openWith(t, where, Options{Key: key})
	id, err := first.FeedIdentity(ctx)
	if err != nil || len(id.EngineID) != 32 || len(id.Epoch) != 16 {
		t.Fatalf("identity %+v, %v", id, err)
	}
	first.Close()
	again, err := h.openWith(t, where, Options{Key: key}).FeedIdentity(ctx)
	if err != nil || again != id {
		t.Fatalf("reopened store has identity %+v, want %+v (%v)", again, id, err)
	}
	other, err := h.open(t).FeedIdentity(ctx)
	if err != nil || other.EngineID == id.EngineID || other.Epoch == id.Epoch {
		t.Fatalf("a new store has identity %+v, like %+v (%v)", other, id, err)
	}
}

// testMessageTimes: a conversation's time is its newest message's own time,
// the platform's when it sent one, never the engine's arrival time, and a
// platform clock running ahead never dates a message in the future.
func testMessageTimes(t *testing.T, h harness) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	c := &clock{}
	c.set(now)
	db := h.openClock(t, c, Options{})
	sent := now.Add(-3 * time.Hour)
	in := func(id string, at time.Time) *backend.Message {
		m, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: "42",
			ExternalID: id, Text: id, PlatformAt: at})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	conv := func(id string) *backend.Conversation {
		c, err := db.FindConversationByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	first := in("three hours ago", sent)
	if !first.At().Equal(sent) || !first.CreatedAt.Equal(now) {
		t.Fatalf("message at %v (stored %v), want %v", first.At(), first.CreatedAt, sent)
	}
	if c := conv(first.ConversationID); !c.LastMessageAt.Equal(sent) || c.LastMessageText != "three hours ago" {
		t.Fatalf("conversation at %v %q, want the platform's %v", c.LastMessageAt, c.LastMessageText, sent)
	}
	// A message delivered late, written before the newest one, does not move the conversation back.
	in("older, delivered late", sent.Add(-time.Hour))
	if c := conv(first.ConversationID); !c.LastMessageAt.Equal(sent) || c.LastMessageText != "three hours ago" {
		t.Fatalf("conversation moved back to %v %q", c.LastMessageAt, c.LastMessageText)
	}
	ahead := in("clock ahead", now.Add(time.Hour))
	if !ahead.At().Equal(now) {
		t.Fatalf("a platform time in the future gives %v, want the engine's %v", ahead.At(), now)
	}
	if c := conv(first.ConversationID); !c.LastMessageAt.Equal(now) || c.LastMessageText != "clock ahead" {
		t.Fatalf("conversation at %v %q", c.LastMessageAt, c.LastMessageText)
	}
	none := in("no platform time", time.Time{})
	if !none.At().Equal(now) {
		t.Fatalf("without a platform time: %v", none.At())
	}
}
