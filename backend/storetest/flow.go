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
	// The feed carries who holds the conversation, not the flow's
	// variables and outputs (the customer's answers).
	evs, err := db.EventsSince(ctx, 0, 100)
	if err != nil || len(evs) == 0 || evs[len(evs)-1].Type != backend.EventFlowExecutionUpserted {
		t.Fatalf("events %v %v", evs, err)
	}
	var carried map[string]any
	if err := json.Unmarshal(evs[len(evs)-1].Data, &carried); err != nil || carried["status"] != backend.FlowWaiting ||
		carried["conversationId"] != "cv_1" || carried["version"] != 1.0 || carried["variables"] != nil || carried["outputs"] != nil {
		t.Fatalf("the event carries %s (%v)", evs[len(evs)-1].Data, err)
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

// testFlowStepOneWrite: a flow's step saves its replies and the execution
// together: all of them, or, when the compare-and-set is lost or a reply
// cannot be stored, none.
func testFlowStepOneWrite(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	in := func(from string) *backend.Message {
		m, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "sms.twilio", Instance: "main", ExternalUserID: from,
			ExternalID: "SM" + from, Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	texts := func(conv string) []string {
		ms, err := db.FindMessages(ctx, conv)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			if m.Direction == backend.DirectionOut {
				out = append(out, m.Text)
			}
		}
		return out
	}
	m1, m2 := in("+15550001111"), in("+15550002222")
	reply := func(conv, key, text string) *backend.OutboundMessage {
		return &backend.OutboundMessage{ConversationID: conv, AuthorName: "Bot", Text: text, ClientID: key}
	}
	x := &backend.FlowExecution{ID: "fx_1", ConversationID: m1.ConversationID, FlowKey: "sms.twilio/main",
		Status: backend.FlowWaiting, Widget: "ask", Seen: []string{m1.ID}}
	if err := db.SaveFlowStep(ctx, x, 0, []*backend.OutboundMessage{reply(m1.ConversationID, "k1", "Hello"),
		reply(m1.ConversationID, "k2", "Your order?")}); err != nil || x.Version != 1 {
		t.Fatalf("save a step: v%d %v", x.Version, err)
	}
	if got := texts(m1.ConversationID); len(got) != 2 || got[0] != "Hello" || got[1] != "Your order?" {
		t.Fatalf("replies %q", got)
	}

	stale := *x
	if err := db.SaveFlowStep(ctx, &stale, 0, []*backend.OutboundMessage{reply(m1.ConversationID, "k3", "Lost")}); backend.ErrorCode(err) != backend.EConflict {
		t.Fatalf("a stale step: %v, want conflict", err)
	}
	if got := texts(m1.ConversationID); len(got) != 2 {
		t.Fatalf("a lost compare-and-set stored a reply: %q", got)
	}

	// k1 is a reply of the first conversation: the second one's step fails
	// as a whole.
	y := &backend.FlowExecution{ID: "fx_2", ConversationID: m2.ConversationID, FlowKey: "sms.twilio/main", Status: backend.FlowEnded, Widget: "end"}
	if err := db.SaveFlowStep(ctx, y, 0, []*backend.OutboundMessage{reply(m2.ConversationID, "k4", "Fine"),
		reply(m2.ConversationID, "k1", "Clash")}); backend.ErrorCode(err) != backend.EConflict {
		t.Fatalf("a reply reusing another conversation's client id: %v, want conflict", err)
	}
	if _, err := db.FindFlowExecution(ctx, m2.ConversationID); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("the failed step saved its execution: %v", err)
	}
	if got := texts(m2.ConversationID); len(got) != 0 {
		t.Fatalf("the failed step stored replies: %q", got)
	}
	if err := db.SaveFlowStep(ctx, y, 0, []*backend.OutboundMessage{reply(m1.ConversationID, "k5", "Elsewhere")}); backend.ErrorCode(err) != backend.EInvalid {
		t.Fatalf("a reply in another conversation: %v, want invalid", err)
	}

	// A repeated step (its replies' client ids) stores nothing twice.
	if err := db.SaveFlowStep(ctx, x, 1, []*backend.OutboundMessage{reply(m1.ConversationID, "k2", "Your order?")}); err != nil || x.Version != 2 {
		t.Fatalf("repeat: v%d %v", x.Version, err)
	}
	if got := texts(m1.ConversationID); len(got) != 2 {
		t.Fatalf("a repeated reply was stored again: %q", got)
	}
	got, err := db.FindFlowExecution(ctx, m1.ConversationID)
	if err != nil || got.Version != 2 || got.Status != backend.FlowWaiting {
		t.Fatalf("execution %+v %v", got, err)
	}
}
