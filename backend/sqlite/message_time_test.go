package sqlite_test

import (
	"context"
	"testing"
	"time"

	"switchboard/backend"
)

// TestMessageTimes: a conversation's time is its newest message's own time,
// the platform's when it sent one, never the engine's arrival time, and a
// platform clock running ahead never dates a message in the future.
func TestMessageTimes(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
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
