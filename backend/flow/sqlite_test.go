package flow_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/flow"
	"switchboard/backend/secret"
	"switchboard/backend/sqlite"
)

// storeKey seals the test stores' secrets; one key, so a store reopened on
// the same file reads them.
var storeKey = secret.MustNew()

// openDB opens the real store on path and closes it at cleanup.
func openDB(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(path)
	db.PasswordCost = 4
	db.Secrets = storeKey
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// sqlEngine is an engine on the real store whose Sender stores outbound
// messages like production.
type sqlEngine struct {
	*flow.Engine
	clock *flow.FakeClock
	tasks *[]taskCall
}

func newSQLEngine(tb testing.TB, db *sqlite.DB, clock *flow.FakeClock, def *backend.Flow, wrap func(flow.Sender) flow.Sender) *sqlEngine {
	tb.Helper()
	return newSQLEngineWith(tb, db, clock, def, wrap, nil)
}

// newSQLEngineWith is newSQLEngine with options changed by opt first.
func newSQLEngineWith(tb testing.TB, db *sqlite.DB, clock *flow.FakeClock, def *backend.Flow, wrap func(flow.Sender) flow.Sender, opt func(*flow.Options)) *sqlEngine {
	tb.Helper()
	var mu sync.Mutex
	tasks := &[]taskCall{}
	var sender flow.Sender = flow.MessageSender{Messages: db}
	if wrap != nil {
		sender = wrap(sender)
	}
	opts := flow.Options{
		Clock: clock, Sender: sender, Conversations: db, Contacts: db, DefaultFlow: def,
		Tasks: flow.TaskCreatorFunc(func(_ context.Context, conv, channel string, attrs map[string]any, prio int) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			*tasks = append(*tasks, taskCall{conv, channel, attrs, prio})
			return "tk_1", nil
		}),
	}
	if opt != nil {
		opt(&opts)
	}
	eng, err := flow.NewEngine(db, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() })
	return &sqlEngine{Engine: eng, clock: clock, tasks: tasks}
}

// inbound stores a message the way a connector does and returns it with
// its conversation.
func inbound(tb testing.TB, db *sqlite.DB, channel, instance, from, extID, text string) (*backend.Message, *backend.Conversation) {
	tb.Helper()
	ctx := context.Background()
	m, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: channel, Instance: instance, ExternalUserID: from,
		ExternalID: extID, Text: text})
	if err != nil {
		tb.Fatal(err)
	}
	conv, err := db.FindConversationByID(ctx, m.ConversationID)
	if err != nil {
		tb.Fatal(err)
	}
	return m, conv
}

// outbound returns the texts of a conversation's outbound messages.
func outbound(tb testing.TB, db *sqlite.DB, convID string) []string {
	tb.Helper()
	ms, err := db.FindMessages(context.Background(), convID)
	if err != nil {
		tb.Fatal(err)
	}
	out := []string{}
	for _, m := range ms {
		if m.Direction == backend.DirectionOut {
			out = append(out, m.Text)
		}
	}
	return out
}

// TestRestart_WaitSurvivesAndTimesOutOnce: a flow waiting for a reply
// survives closing the engine and the database; after reopening, its
// timeout fires exactly once, and a later restart does not fire it again.
func TestRestart_WaitSurvivesAndTimesOutOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "engine.db")
	ctx := context.Background()

	db1 := openDB(t, path)
	e1 := newSQLEngine(t, db1, flow.NewFakeClock(t0), askFlow(), nil)
	m, conv := inbound(t, db1, "sms.twilio", "main", "+15550001111", "SM1", "hi")
	if err := e1.HandleInbound(ctx, m, conv); err != nil {
		t.Fatal(err)
	}
	e1.Close()
	db1.Close()

	db2 := openDB(t, path)
	x, err := db2.FindFlowExecution(ctx, conv.ID)
	if err != nil || x.Status != backend.FlowWaiting || x.Widget != "ask" || !x.TimeoutAt.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("after reopening: %+v %v", x, err)
	}
	clock := flow.NewFakeClock(t0.Add(4 * time.Minute))
	newSQLEngine(t, db2, clock, askFlow(), nil)
	clock.Advance(5 * time.Minute)
	if got := outbound(t, db2, conv.ID); len(got) != 1 {
		t.Fatalf("before the timeout: %q", got)
	}
	clock.Advance(time.Minute)
	clock.Advance(time.Hour)
	want := []string{"What is your order number?", "No reply, goodbye"}
	if got := outbound(t, db2, conv.ID); !equalStrings(got, want) {
		t.Fatalf("after the timeout: %q, want %q", got, want)
	}

	// Another restart long after: nothing fires again.
	db2.Close()
	db3 := openDB(t, path)
	clock3 := flow.NewFakeClock(t0.Add(48 * time.Hour))
	newSQLEngine(t, db3, clock3, askFlow(), nil)
	clock3.Advance(time.Hour)
	if got := outbound(t, db3, conv.ID); !equalStrings(got, want) {
		t.Fatalf("after a second restart: %q", got)
	}
	if x, _ := db3.FindFlowExecution(ctx, conv.ID); x.Status != backend.FlowEnded {
		t.Fatalf("status %s, want ended", x.Status)
	}
}

// TestRestart_TimeoutPassedWhileDown fires a timeout that fell due while
// the engine was stopped as soon as it starts.
func TestRestart_TimeoutPassedWhileDown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "engine.db")
	ctx := context.Background()
	db1 := openDB(t, path)
	e1 := newSQLEngine(t, db1, flow.NewFakeClock(t0), askFlow(), nil)
	m, conv := inbound(t, db1, "sms.twilio", "main", "+15550001111", "SM1", "hi")
	if err := e1.HandleInbound(ctx, m, conv); err != nil {
		t.Fatal(err)
	}
	e1.Close()
	db1.Close()

	db2 := openDB(t, path)
	newSQLEngine(t, db2, flow.NewFakeClock(t0.Add(time.Hour)), askFlow(), nil) // Start fires it
	want := []string{"What is your order number?", "No reply, goodbye"}
	if got := outbound(t, db2, conv.ID); !equalStrings(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestRestart_CrashMidStepSendsOnce: the process dies after a widget sent
// its message but before the execution was saved. After the lease runs out
// a new engine takes over and runs the step again; the send carries the
// same idempotency key, so the customer gets the message once.
func TestRestart_CrashMidStepSendsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "engine.db")
	conv := crashMidStep(t, path)
	x, _ := openDB(t, path).FindFlowExecution(context.Background(), conv.ID)
	if x.Status != backend.FlowRunning || x.Pending == nil {
		t.Fatalf("after the crash: %+v", x)
	}

	db2 := openDB(t, path)
	clock := flow.NewFakeClock(t0.Add(30 * time.Second)) // the lease still holds
	newSQLEngine(t, db2, clock, askFlow(), nil)
	if x, _ := db2.FindFlowExecution(context.Background(), conv.ID); x.Status != backend.FlowRunning {
		t.Fatalf("taken over before the lease ran out: %s", x.Status)
	}
	clock.Advance(flow.DefaultLease)
	x, _ = db2.FindFlowExecution(context.Background(), conv.ID)
	if x.Status != backend.FlowWaiting || x.Widget != "ask" {
		t.Fatalf("after the takeover: %s at %s (%s)", x.Status, x.Widget, x.Error)
	}
	if got := outbound(t, db2, conv.ID); !equalStrings(got, []string{"What is your order number?"}) {
		t.Fatalf("outbound %q, want the question once", got)
	}
}

// TestRace_ReplyAndTimeout: two engines on one store (two nodes) race a
// reply against the timeout of the same wait, many times over. Exactly one
// of them advances the flow each time.
func TestRace_ReplyAndTimeout(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "engine.db"))
	ctx := context.Background()
	clockA, clockB := flow.NewFakeClock(t0), flow.NewFakeClock(t0)
	a := newSQLEngine(t, db, clockA, askFlow(), nil)
	newSQLEngine(t, db, clockB, askFlow(), nil) // node B only fires timeouts
	const n = 20
	convs := make([]*backend.Conversation, n)
	for i := range n {
		m, conv := inbound(t, db, "sms.twilio", "main", "+1555000"+string(rune('a'+i)), "SMq"+string(rune('a'+i)), "hi")
		if err := a.HandleInbound(ctx, m, conv); err != nil {
			t.Fatal(err)
		}
		convs[i] = conv
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i, conv := range convs {
			m, _ := inbound(t, db, "sms.twilio", "main", conv.ThreadKey, "SMr"+string(rune('a'+i)), "A-1")
			a.HandleInbound(ctx, m, conv) // may lose: busy elsewhere
		}
	}()
	go func() {
		defer wg.Done()
		clockB.Advance(10 * time.Minute)
	}()
	wg.Wait()
	replies, timeouts := 0, 0
	for _, conv := range convs {
		got := outbound(t, db, conv.ID)
		thanks, bye := contains(got, "Thanks, order A-1"), contains(got, "No reply, goodbye")
		if thanks && bye {
			t.Fatalf("conversation %s advanced twice: %q", conv.ID, got)
		}
		if !thanks && !bye {
			t.Fatalf("conversation %s never advanced: %q", conv.ID, got)
		}
		if thanks {
			replies++
		} else {
			timeouts++
		}
	}
	t.Logf("%d replies won, %d timeouts won", replies, timeouts)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
