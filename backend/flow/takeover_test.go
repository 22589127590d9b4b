package flow_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/flow"
)

// crashMidStep runs a first engine on path that dies right after its first
// send, leaving the conversation's execution running (leased) with the
// message pending. It returns the conversation.
func crashMidStep(t *testing.T, path string) *backend.Conversation {
	t.Helper()
	db1 := openDB(t, path)
	ctx, crash := context.WithCancel(context.Background())
	e1 := newSQLEngine(t, db1, flow.NewFakeClock(t0), askFlow(), func(s flow.Sender) flow.Sender {
		return flow.SenderFunc(func(_ context.Context, conv *backend.Conversation, text, key string) error {
			err := s.Send(context.Background(), conv, text, key)
			crash()
			return err
		})
	})
	m, conv := inbound(t, db1, "sms.twilio", "main", "+15550001111", "SM1", "hi")
	if err := e1.HandleInbound(ctx, m, conv); err == nil {
		t.Fatal("the interrupted run reported success")
	}
	e1.Close()
	db1.Close()
	return conv
}

// TestTakeOverOnStart_ResumesAtOnce: an engine that is its store's only
// runner resumes an execution the dead process left running when it starts,
// without waiting for the lease, and sends nothing twice.
func TestTakeOverOnStart_ResumesAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "engine.db")
	conv := crashMidStep(t, path)
	db := openDB(t, path)
	clock := flow.NewFakeClock(t0.Add(time.Second)) // the lease still holds
	newSQLEngineWith(t, db, clock, askFlow(), nil, func(o *flow.Options) { o.TakeOverOnStart = true })
	x, err := db.FindFlowExecution(context.Background(), conv.ID)
	if err != nil || x.Status != backend.FlowWaiting || x.Widget != "ask" {
		t.Fatalf("after start: %+v, %v", x, err)
	}
	if got := outbound(t, db, conv.ID); !equalStrings(got, []string{"What is your order number?"}) {
		t.Fatalf("outbound %q, want the question once", got)
	}
}

// TestBusyElsewhere_RetriedUntilSeen: a reply arriving while the execution
// is leased by a runner that died is refused as busy (the hub keeps it and
// retries); once the lease ran out and the execution was taken over, the
// retried reply is seen exactly once, and redeliveries change nothing.
func TestBusyElsewhere_RetriedUntilSeen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "engine.db")
	conv := crashMidStep(t, path)
	db := openDB(t, path)
	clock := flow.NewFakeClock(t0.Add(time.Second))
	e := newSQLEngine(t, db, clock, askFlow(), nil)
	reply, _ := inbound(t, db, "sms.twilio", "main", "+15550001111", "SM2", "A-7")
	if err := e.HandleMessage(ctx, reply); backend.ErrorCode(err) != backend.EUnavailable {
		t.Fatalf("while leased elsewhere: %v, want unavailable (busy)", err)
	}
	clock.Advance(flow.DefaultLease) // the timer takes the execution over
	first, _ := db.FindMessageByExternalID(ctx, "sms.twilio", "main", "SM1")
	for _, m := range []*backend.Message{reply, first, reply} { // the retry, then redeliveries
		if err := e.HandleMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"What is your order number?", "Thanks, order A-7"}
	if got := outbound(t, db, conv.ID); !equalStrings(got, want) {
		t.Fatalf("outbound %q, want %q", got, want)
	}
}
