package storetest

import (
	"context"
	"testing"
	"time"

	"switchboard/backend"
)

// The metrics' backlog counts what each stage has not done yet: outbox jobs
// due (their attempt reached, or their sender's lease over), tasks waiting
// for an agent, and the feed's newest sequence.
func testBacklogCountsPendingWork(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if b, err := db.Backlog(ctx, now); err != nil || b.OutboxDue != 0 || b.TasksWaiting != 0 || !b.OutboxOldestDue.IsZero() || !b.TasksOldest.IsZero() {
		t.Fatalf("empty store's backlog: %+v, %v", b, err)
	}
	if err := db.PutChannelInstance(ctx, &backend.ChannelInstance{Connector: "email", Instance: "support", Config: []byte(`{}`), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"a@example.net", "b@example.net"} {
		in, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "email", Instance: "support", ExternalUserID: who, ExternalID: who, Text: "hello"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: in.ConversationID, Text: "answer"}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := db.EnqueueOutbox(ctx, now); err != nil || n != 2 {
		t.Fatalf("enqueued %d, %v", n, err)
	}
	// Both jobs are due at now; one is claimed with a lease to now+1m, due
	// again only after it.
	if jobs, err := db.ClaimOutbox(ctx, now, now.Add(time.Minute), 1); err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %d jobs, %v", len(jobs), err)
	}
	waiting := now.Add(-time.Minute)
	err := db.SaveRouting(ctx, &backend.RoutingChange{Tasks: []*backend.Task{
		{ID: "task_w", Channel: "chat", Attributes: map[string]any{}, State: backend.TaskPending, QueueID: "q_1", CreatedAt: waiting, UpdatedAt: waiting},
		{ID: "task_r", Channel: "chat", Attributes: map[string]any{}, State: backend.TaskReserved, QueueID: "q_1", CreatedAt: now, UpdatedAt: now},
	}})
	if err != nil {
		t.Fatal(err)
	}
	last, err := db.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.Backlog(ctx, now)
	if err != nil || b.OutboxDue != 1 || b.TasksWaiting != 1 || !b.TasksOldest.Equal(waiting) || b.LastSeq != last || !b.OutboxOldestDue.Equal(now) {
		t.Fatalf("backlog at the claim: %+v, %v (feed at %d)", b, err, last)
	}
	later := now.Add(2 * time.Minute)
	if b, err := db.Backlog(ctx, later); err != nil || b.OutboxDue != 2 || !b.OutboxOldestDue.Equal(now) {
		t.Fatalf("backlog once the lease is over: %+v, %v", b, err)
	}
}
