package flow_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"switchboard/backend"
	"switchboard/backend/flow"
	"switchboard/backend/sqlite"
)

// traceCounter counts the trace lines of each widget.
type traceCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *traceCounter) trace(t flow.TraceStep) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[t.Widget]++
}

func (c *traceCounter) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// writesOf returns how many write transactions fn made in db.
func writesOf(t *testing.T, db *sqlite.DB, fn func()) int64 {
	t.Helper()
	before := db.WriterStats().Transactions
	fn()
	return db.WriterStats().Transactions - before
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestOneWrite_StepAndRepliesInOneTransaction: a message whose steps only
// send replies is one write transaction, replies and the execution's new
// state together; its redelivery writes nothing, and every step is traced
// once.
func TestOneWrite_StepAndRepliesInOneTransaction(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "engine.db"))
	ctx := context.Background()
	traces := &traceCounter{n: map[string]int{}}
	e := newSQLEngineWith(t, db, flow.NewFakeClock(t0), askFlow(), nil, func(o *flow.Options) { o.Trace = traces.trace })
	m, conv := inbound(t, db, "sms.twilio", "main", "+15550001111", "SM1", "hi")
	handle := func(m *backend.Message) func() {
		return func() {
			if err := e.HandleInbound(ctx, m, conv); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := writesOf(t, db, handle(m)); n != 1 {
		t.Fatalf("a new execution that asks took %d write transactions, want 1", n)
	}
	reply, _ := inbound(t, db, "sms.twilio", "main", "+15550001111", "SM2", "A-1")
	if n := writesOf(t, db, handle(reply)); n != 1 {
		t.Fatalf("the reply took %d write transactions, want 1", n)
	}
	if n := writesOf(t, db, handle(reply)); n != 0 {
		t.Fatalf("a redelivered reply took %d write transactions, want 0", n)
	}
	want := []string{"What is your order number?", "Thanks, order A-1"}
	if got := outbound(t, db, conv.ID); !equalStrings(got, want) {
		t.Fatalf("outbound %q, want %q", got, want)
	}
	x, err := db.FindFlowExecution(ctx, conv.ID)
	if err != nil || x.Status != backend.FlowEnded || x.Version != 2 || !contains(x.Seen, reply.ID) {
		t.Fatalf("execution %+v %v", x, err)
	}
	if got, want := traces.counts(), map[string]int{"trigger": 1, "ask": 2, "thanks": 1, "end": 1}; !equalCounts(got, want) {
		t.Fatalf("traces %v, want %v", got, want)
	}

	// A message after the flow ended starts it anew, in one write too.
	again, _ := inbound(t, db, "sms.twilio", "main", "+15550001111", "SM3", "hello again")
	if n := writesOf(t, db, handle(again)); n != 1 {
		t.Fatalf("restarting the ended flow took %d write transactions, want 1", n)
	}
	if x, err := db.FindFlowExecution(ctx, conv.ID); err != nil || x.Status != backend.FlowWaiting || x.Version != 3 {
		t.Fatalf("restarted execution %+v %v", x, err)
	}
	if got := outbound(t, db, conv.ID); len(got) != 3 {
		t.Fatalf("outbound after the restart %q", got)
	}
}

// interferingContacts moves the conversation's execution on (as another
// runner would) the first time the flow looks its contact up, in the middle
// of the step.
type interferingContacts struct {
	t    *testing.T
	db   *sqlite.DB
	once sync.Once
}

func (c *interferingContacts) FindContactByID(ctx context.Context, id string) (*backend.Contact, error) {
	c.once.Do(func() {
		convs, err := c.db.FindConversations(ctx, backend.ConversationFilter{})
		if err != nil || len(convs) != 1 {
			c.t.Errorf("conversations %v %v", convs, err)
			return
		}
		x, err := c.db.FindFlowExecution(ctx, convs[0].ID)
		if err != nil {
			c.t.Error(err)
			return
		}
		x.Steps += 10 // the other runner's sends had other keys
		if err := c.db.SaveFlowExecution(ctx, x, x.Version); err != nil {
			c.t.Error(err)
		}
	})
	return c.db.FindContactByID(ctx, id)
}

// TestOneWrite_LostCompareAndSetStoresNoReply: when the execution moved on
// while a step ran, the step's save stores none of its replies; the input
// runs again on the new state, and the customer gets its answer once.
func TestOneWrite_LostCompareAndSetStoresNoReply(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "engine.db"))
	ctx := context.Background()
	def := mkflow("ask",
		w("ask", "send-and-wait-for-reply", to("incomingMessage", "thanks", "timeout", "end", "failed", "end"), map[string]any{"body": "Your order?"}),
		msg("thanks", "Thanks {{contact.id}}, order {{widgets.ask.inbound.body}}", to("sent", "end", "failed", "end")),
		endW)
	contacts := &interferingContacts{t: t, db: db}
	e := newSQLEngineWith(t, db, flow.NewFakeClock(t0), def, nil, func(o *flow.Options) { o.Contacts = contacts })
	m, conv := inbound(t, db, "sms.twilio", "main", "+15550001111", "SM1", "hi")
	if err := e.HandleInbound(ctx, m, conv); err != nil {
		t.Fatal(err)
	}
	reply, _ := inbound(t, db, "sms.twilio", "main", "+15550001111", "SM2", "A-1")
	if err := e.HandleInbound(ctx, reply, conv); err != nil {
		t.Fatal(err)
	}
	thanks := 0
	for _, text := range outbound(t, db, conv.ID) {
		if strings.HasPrefix(text, "Thanks") {
			thanks++
		}
	}
	if thanks != 1 {
		t.Fatalf("the answer was stored %d times: %q", thanks, outbound(t, db, conv.ID))
	}
	x, err := db.FindFlowExecution(ctx, conv.ID)
	if err != nil || x.Status != backend.FlowEnded || !contains(x.Seen, reply.ID) {
		t.Fatalf("execution %+v %v", x, err)
	}
}

// TestOneWrite_TaskClaimsTheExecutionFirst: a step that acts outside the
// store (here it hands the conversation to the router) runs with the
// execution claimed before it acts, as after a crash it must be taken over
// rather than run anew; the task is created once and nothing is traced
// twice.
func TestOneWrite_TaskClaimsTheExecutionFirst(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "engine.db"))
	ctx := context.Background()
	traces := &traceCounter{n: map[string]int{}}
	def := mkflow("hello", msg("hello", "Hello", to("sent", "agent", "failed", "end")),
		w("agent", "send-to-agent", to("failed", "end"), nil), endW)
	e := newSQLEngineWith(t, db, flow.NewFakeClock(t0), def, nil, func(o *flow.Options) { o.Trace = traces.trace })
	m, conv := inbound(t, db, "sms.twilio", "main", "+15550001111", "SM1", "hi")
	if n := writesOf(t, db, func() {
		if err := e.HandleInbound(ctx, m, conv); err != nil {
			t.Fatal(err)
		}
	}); n != 3 {
		t.Fatalf("%d write transactions, want 3 (claim, reply, outcome)", n)
	}
	if len(*e.tasks) != 1 {
		t.Fatalf("tasks %+v, want one", *e.tasks)
	}
	if got := outbound(t, db, conv.ID); !equalStrings(got, []string{"Hello"}) {
		t.Fatalf("outbound %q", got)
	}
	if x, err := db.FindFlowExecution(ctx, conv.ID); err != nil || x.Status != backend.FlowAgent {
		t.Fatalf("execution %+v %v", x, err)
	}
	if got, want := traces.counts(), map[string]int{"trigger": 1, "hello": 1, "agent": 1}; !equalCounts(got, want) {
		t.Fatalf("traces %v, want %v", got, want)
	}
}
