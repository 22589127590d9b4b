package routing_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"

	"switchboard/backend"
	"switchboard/backend/routing"
)

// TestAccess_FollowsTheWork runs the engine on the real store and reads
// the access policy's facts after each decision: the queue's members read
// a waiting conversation, the offered agent and then the holder read it
// (and only the holder writes to it); who completed it stays its assignee
// until someone else takes it; sent back to the queue, it is nobody's.
func TestAccess_FollowsTheWork(t *testing.T) {
	ctx := context.Background()
	clock := routing.NewFakeClock(t0)
	db := MustOpenDB(t, filepath.Join(t.TempDir(), "engine.db"), clock)
	e := routing.New(db, routing.Options{Clock: clock, NewID: seqIDs(), Logger: slog.New(slog.DiscardHandler)})
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.UpsertQueue(ctx, &backend.Queue{ID: "billing", Name: "Billing", TargetWorkers: `"billing" in worker.skills`}); err != nil {
		t.Fatal(err)
	}
	ana, err := e.UpsertWorker(ctx, &backend.Worker{UserID: "u_ana", Name: "Ana", Attributes: map[string]any{"skills": []any{"billing"}}})
	if err != nil {
		t.Fatal(err)
	}
	ben, err := e.UpsertWorker(ctx, &backend.Worker{UserID: "u_ben", Name: "Ben", Attributes: map[string]any{"skills": []any{"support"}}})
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "sms.twilio", Instance: "main", ExternalUserID: "+15550001", ExternalID: "SM1", Text: "bill?"})
	if err != nil {
		t.Fatal(err)
	}
	conv := m.ConversationID
	want := func(what string, levels map[string][]string, assignee string) {
		t.Helper()
		for user, l := range levels {
			got, err := db.ConversationAccess(ctx, user, conv)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, l) {
				t.Fatalf("%s: %s holds %v, want %v", what, user, got, l)
			}
		}
		if c, _ := db.FindConversationByID(ctx, conv); c.AssigneeID != assignee {
			t.Fatalf("%s: assignee %q, want %q", what, c.AssigneeID, assignee)
		}
	}
	task, err := e.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelChat, QueueID: "billing", ConversationID: conv})
	if err != nil {
		t.Fatal(err)
	}
	want("waiting", map[string][]string{"u_ana": {backend.AccessQueue}, "u_ben": nil}, "")

	// Ben learns billing: he serves the queue, so he reads what waits in it.
	if _, err := e.UpsertWorker(ctx, &backend.Worker{ID: ben.ID, UserID: "u_ben", Name: "Ben", Attributes: map[string]any{"skills": []any{"billing"}}}); err != nil {
		t.Fatal(err)
	}
	want("ben joined", map[string][]string{"u_ana": {backend.AccessQueue}, "u_ben": {backend.AccessQueue}}, "")

	// Ana becomes available: it is offered to her, and waits no more.
	if _, err := e.SetWorkerActivity(ctx, ana.ID, backend.ActivityAvailable); err != nil {
		t.Fatal(err)
	}
	want("offered", map[string][]string{"u_ana": {backend.AccessOffered}, "u_ben": nil}, "")
	res, _ := e.Reservations(ctx, ana.ID)
	if _, err := e.AcceptReservation(ctx, res[0].ID); err != nil {
		t.Fatal(err)
	}
	want("accepted", map[string][]string{"u_ana": {backend.AccessOwner}, "u_ben": nil}, "u_ana")

	// A restart recomputes the same.
	e.Close()
	e = routing.New(db, routing.Options{Clock: clock, NewID: seqIDs(), Logger: slog.New(slog.DiscardHandler)})
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	want("restarted", map[string][]string{"u_ana": {backend.AccessOwner}, "u_ben": nil}, "u_ana")

	// Completed, it stays ana's until someone else takes it up.
	if _, err := e.CompleteTask(ctx, task.ID, "Resolved"); err != nil {
		t.Fatal(err)
	}
	want("completed", map[string][]string{"u_ana": {backend.AccessAssigned}, "u_ben": nil}, "u_ana")
	if _, err := e.SetWorkerActivity(ctx, ana.ID, backend.ActivityOffline); err != nil {
		t.Fatal(err)
	}
	if _, err := e.SetWorkerActivity(ctx, ben.ID, backend.ActivityAvailable); err != nil {
		t.Fatal(err)
	}
	again, err := e.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelChat, QueueID: "billing", ConversationID: conv})
	if err != nil {
		t.Fatal(err)
	}
	want("offered to ben", map[string][]string{"u_ana": {backend.AccessAssigned}, "u_ben": {backend.AccessOffered}}, "u_ana")
	res, _ = e.Reservations(ctx, ben.ID)
	if _, err := e.AcceptReservation(ctx, res[0].ID); err != nil {
		t.Fatal(err)
	}
	want("taken by ben", map[string][]string{"u_ana": nil, "u_ben": {backend.AccessOwner}}, "u_ben")
	// Sent back to the queue, it is nobody's: both serve the queue.
	if _, err := e.TransferTask(ctx, again.ID, backend.TransferTarget{QueueID: "billing"}); err != nil {
		t.Fatal(err)
	}
	want("back in the queue", map[string][]string{"u_ana": {backend.AccessQueue}, "u_ben": {backend.AccessQueue}}, "")
}

// TestAccess_TakenAndAssigned: a conversation taken from a queue, or
// assigned by a supervisor, records its assignee as an accepted offer
// does, on the real store.
func TestAccess_TakenAndAssigned(t *testing.T) {
	ctx := context.Background()
	clock := routing.NewFakeClock(t0)
	db := MustOpenDB(t, filepath.Join(t.TempDir(), "engine.db"), clock)
	e := routing.New(db, routing.Options{Clock: clock, NewID: seqIDs(), Logger: slog.New(slog.DiscardHandler)})
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.UpsertQueue(ctx, &backend.Queue{ID: "billing", Name: "Billing", TargetWorkers: `"billing" in worker.skills`}); err != nil {
		t.Fatal(err)
	}
	skills := map[string]any{"skills": []any{"billing"}}
	ana, err := e.UpsertWorker(ctx, &backend.Worker{UserID: "u_ana", Name: "Ana", Attributes: skills})
	if err != nil {
		t.Fatal(err)
	}
	ben, err := e.UpsertWorker(ctx, &backend.Worker{UserID: "u_ben", Name: "Ben", Attributes: skills})
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "sms.twilio", Instance: "main", ExternalUserID: "+15550002", ExternalID: "SM2", Text: "refund?"})
	if err != nil {
		t.Fatal(err)
	}
	conv := m.ConversationID
	want := func(what string, levels map[string][]string, assignee string) {
		t.Helper()
		for user, l := range levels {
			if got, err := db.ConversationAccess(ctx, user, conv); err != nil || !reflect.DeepEqual(got, l) {
				t.Fatalf("%s: %s holds %v (%v), want %v", what, user, got, err, l)
			}
		}
		if c, _ := db.FindConversationByID(ctx, conv); c.AssigneeID != assignee {
			t.Fatalf("%s: assignee %q, want %q", what, c.AssigneeID, assignee)
		}
	}
	// Both are offline: the task waits in the queue.
	task, err := e.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelChat, QueueID: "billing", ConversationID: conv})
	if err != nil {
		t.Fatal(err)
	}
	want("waiting", map[string][]string{"u_ana": {backend.AccessQueue}, "u_ben": {backend.AccessQueue}}, "")

	if _, err := e.TakeTask(ctx, task.ID, ana.ID); err != nil {
		t.Fatal(err)
	}
	want("taken by ana", map[string][]string{"u_ana": {backend.AccessOwner}, "u_ben": nil}, "u_ana")

	if _, err := e.TransferTask(ctx, task.ID, backend.TransferTarget{QueueID: "billing"}); err != nil {
		t.Fatal(err)
	}
	want("back in the queue", map[string][]string{"u_ana": {backend.AccessQueue}, "u_ben": {backend.AccessQueue}}, "")

	if _, err := e.AssignTask(ctx, task.ID, ben.ID); err != nil {
		t.Fatal(err)
	}
	want("assigned to ben", map[string][]string{"u_ana": nil, "u_ben": {backend.AccessOwner}}, "u_ben")
}
