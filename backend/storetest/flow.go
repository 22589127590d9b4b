package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"switchboard/backend"
)

func testFlowRevisions(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	key := backend.FlowKey("sms.twilio", "main")
	if _, err := db.FindFlow(ctx, key); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("find before put: %v", err)
	}
	f := &backend.Flow{Name: "v1", Widgets: []backend.FlowWidget{{Name: "trigger", Type: "trigger",
		Transitions: map[string]string{"incomingMessage": "end"}, Properties: json.RawMessage(`{"x":1}`)}, {Name: "end", Type: "end"}}}
	r1, err := db.PutFlow(ctx, key, f)
	if err != nil || r1.Revision != 1 {
		t.Fatalf("put: %+v %v", r1, err)
	}
	f.Name = "v2"
	if r2, err := db.PutFlow(ctx, key, f); err != nil || r2.Revision != 2 {
		t.Fatalf("put again: %+v %v", r2, err)
	}
	cur, err := db.FindFlow(ctx, key)
	if err != nil || cur.Revision != 2 || cur.Flow.Name != "v2" || string(cur.Flow.Widgets[0].Properties) != `{"x":1}` {
		t.Fatalf("current: %+v %v", cur, err)
	}
	old, err := db.FindFlowRevision(ctx, key, 1)
	if err != nil || old.Flow.Name != "v1" {
		t.Fatalf("revision 1: %+v %v", old, err)
	}
	if all, err := db.FindFlows(ctx); err != nil || len(all) != 1 || all[0].Revision != 2 {
		t.Fatalf("find flows: %+v %v", all, err)
	}
	if err := db.DeleteFlow(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindFlow(ctx, key); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("find after delete: %v", err)
	}
	if _, err := db.FindFlowRevision(ctx, key, 2); err != nil {
		t.Fatalf("old revisions stay for running executions: %v", err)
	}
	if err := db.DeleteFlow(ctx, key); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("delete twice: %v", err)
	}
	if r3, err := db.PutFlow(ctx, key, f); err != nil || r3.Revision != 3 {
		t.Fatalf("put after delete: %+v %v", r3, err)
	}
	if _, err := db.PutFlow(ctx, "", f); backend.ErrorCode(err) != backend.EInvalid {
		t.Fatalf("put without key: %v", err)
	}
	evs, _ := db.EventsSince(ctx, 0, 100)
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	want := []string{"flow.upserted", "flow.upserted", "flow.deleted", "flow.upserted"}
	if len(types) != len(want) {
		t.Fatalf("events %v, want %v", types, want)
	}
}

func testFlowExecutionCompareAndSet(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	x := &backend.FlowExecution{ID: "fx_1", ConversationID: "cv_1", FlowKey: "sms.twilio/main", Status: backend.FlowWaiting,
		Widget: "ask", Variables: map[string]any{"n": "1"}, Outputs: map[string]map[string]any{"ask": {"k": 2.0}},
		TimeoutAt: t0.Add(time.Hour)}
	if err := db.SaveFlowExecution(ctx, x, 0); err != nil || x.Version != 1 {
		t.Fatalf("insert: v%d %v", x.Version, err)
	}
	dup := *x
	if err := db.SaveFlowExecution(ctx, &dup, 0); backend.ErrorCode(err) != backend.EConflict {
		t.Fatalf("second insert: %v, want conflict", err)
	}
	got, err := db.FindFlowExecution(ctx, "cv_1")
	if err != nil || got.Version != 1 || got.Variables["n"] != "1" || got.Outputs["ask"]["k"] != 2.0 || !got.TimeoutAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("find: %+v %v", got, err)
	}

	// Two runners read version 1; only the first move wins.
	a, b := *got, *got
	a.Status, a.LeaseUntil = backend.FlowRunning, t0.Add(2*time.Minute)
	b.Status = backend.FlowRunning
	if err := db.SaveFlowExecution(ctx, &a, 1); err != nil || a.Version != 2 {
		t.Fatalf("first claim: v%d %v", a.Version, err)
	}
	if err := db.SaveFlowExecution(ctx, &b, 1); backend.ErrorCode(err) != backend.EConflict {
		t.Fatalf("second claim: %v, want conflict", err)
	}

	// Deadlines: a running execution is due when its lease ends.
	if at, ok, err := db.NextFlowDeadline(ctx); err != nil || !ok || !at.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("next deadline %v %v %v", at, ok, err)
	}
	if due, _ := db.DueFlowExecutions(ctx, t0.Add(time.Minute), 10); len(due) != 0 {
		t.Fatalf("due before the lease ends: %d", len(due))
	}
	if due, _ := db.DueFlowExecutions(ctx, t0.Add(2*time.Minute), 10); len(due) != 1 || due[0].Version != 2 {
		t.Fatalf("due at the lease end: %+v", due)
	}
	a.Status, a.LeaseUntil = backend.FlowEnded, time.Time{}
	if err := db.SaveFlowExecution(ctx, &a, 2); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.NextFlowDeadline(ctx); ok {
		t.Fatal("an ended execution has no deadline")
	}
	if _, err := db.FindFlowExecution(ctx, "cv_2"); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("find missing: %v", err)
	}
}
