package postgres_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/postgres"
	"switchboard/backend/postgres/pgtest"
	"switchboard/backend/secret"
)

// openNode opens a store on url as one more node.
func openNode(t *testing.T, url string, key *secret.Key) *postgres.DB {
	t.Helper()
	db := postgres.NewDB(url)
	db.PasswordCost, db.Secrets = 4, key
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestOutbox_SendOfLiveNodeNeverTakenInDoubt: a send claimed by one node
// is not claimed by another while the first lives, however many times it
// looks; once the first node is gone, the send comes back in doubt at once
// (without waiting for its lease).
func TestOutbox_SendOfLiveNodeNeverTakenInDoubt(t *testing.T) {
	ctx := context.Background()
	url, key := pgtest.NewDatabase(t), secret.MustNew()
	a, b := openNode(t, url, key), openNode(t, url, key)
	now := time.Now()
	in, _, err := a.StoreInbound(ctx, &backend.InboundMessage{Channel: "sms.twilio", Instance: "main", ExternalUserID: "+15550001111", ExternalID: "SM1", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.PutChannelInstance(ctx, &backend.ChannelInstance{Connector: "sms.twilio", Instance: "main", Config: []byte(`{}`), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: in.ConversationID, Text: "one"}); err != nil {
		t.Fatal(err)
	}
	if n, err := a.EnqueueOutbox(ctx, now); err != nil || n != 1 {
		t.Fatalf("enqueued %d, %v", n, err)
	}
	jobs, err := a.ClaimOutbox(ctx, now, now.Add(time.Hour), 10)
	if err != nil || len(jobs) != 1 || jobs[0].InDoubt {
		t.Fatalf("claim on a: %v %+v", err, jobs)
	}
	for range 3 {
		if again, err := b.ClaimOutbox(ctx, now, now.Add(time.Hour), 10); err != nil || len(again) != 0 {
			t.Fatalf("b claimed a live node's send: %v %+v", err, again)
		}
	}
	if n, err := b.InterruptOutbox(ctx, now); err != nil || n != 0 {
		t.Fatalf("b interrupted %d sends of a live node: %v", n, err)
	}
	a.Close()
	// a's session ends on the server a moment after its connection closed
	// (the backend process exits on its own); until then b rightly sees a
	// alive. The deadline only bounds a failing test.
	var taken []*backend.OutboxJob
	for deadline := time.Now().Add(20 * time.Second); len(taken) == 0; {
		if taken, err = b.ClaimOutbox(ctx, now, now.Add(time.Hour), 10); err != nil {
			t.Fatal(err)
		}
		if len(taken) == 0 && time.Now().After(deadline) {
			t.Fatal("a's send was never taken over after a closed")
		}
	}
	if len(taken) != 1 || !taken[0].InDoubt || taken[0].ID != jobs[0].ID {
		t.Fatalf("claim after a is gone: %+v; want its send in doubt", taken)
	}
}

// TestLeadership_FencedTermsAndHandedCommands: one node leads at a time;
// the next one leads only once the first resigns, in a later term; the
// deposed leader's routing writes are refused while the new leader's
// commit; a follower's routing command runs on the leader, which hands back
// its result or its error with the error's code.
func TestLeadership_FencedTermsAndHandedCommands(t *testing.T) {
	ctx := context.Background()
	url, key := pgtest.NewDatabase(t), secret.MustNew()
	a, b := openNode(t, url, key), openNode(t, url, key)
	now := time.Now().UTC()
	change := &backend.RoutingChange{Activities: []*backend.Activity{{Name: "Available", Available: true, CreatedAt: now, UpdatedAt: now}}}

	epochA, _, resignA, err := a.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type term struct {
		epoch  int64
		resign func()
		err    error
	}
	won := make(chan term, 1)
	go func() {
		epoch, _, resign, err := b.Campaign(ctx)
		won <- term{epoch, resign, err}
	}()
	if err := a.RoutingStore(epochA).SaveRouting(ctx, change); err != nil {
		t.Fatalf("the leader's write: %v", err)
	}
	select {
	case tb := <-won:
		t.Fatalf("b leads (term %d, %v) while a does", tb.epoch, tb.err)
	default:
	}
	resignA()
	tb := <-won
	if tb.err != nil || tb.epoch <= epochA {
		t.Fatalf("b's term %d after a's %d: %v", tb.epoch, epochA, tb.err)
	}
	defer tb.resign()
	if err := a.RoutingStore(epochA).SaveRouting(ctx, change); backend.ErrorCode(err) != backend.EUnavailable {
		t.Fatalf("the deposed leader's write: %v, want unavailable", err)
	}
	if err := b.RoutingStore(tb.epoch).SaveRouting(ctx, change); err != nil {
		t.Fatalf("the new leader's write: %v", err)
	}

	serving, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		served <- b.ServeRouting(serving, tb.epoch, func(_ context.Context, method string, args []byte) ([]byte, error) {
			if method == "Refuse" {
				return nil, backend.Errorf(backend.EConflict, "The task is taken.")
			}
			return []byte(`{"method":"` + method + `","args":` + string(args) + `}`), nil
		})
	}()
	out, err := a.CallRouting(ctx, "Echo", []byte(`["x",1]`))
	var got struct {
		Method string
		Args   []any
	}
	if err != nil || json.Unmarshal(out, &got) != nil || got.Method != "Echo" || !reflect.DeepEqual(got.Args, []any{"x", 1.0}) {
		t.Errorf("the follower's command: %s %v", out, err)
	}
	if _, err := a.CallRouting(ctx, "Refuse", []byte(`[]`)); backend.ErrorCode(err) != backend.EConflict || backend.ErrorMessage(err) != "The task is taken." {
		t.Errorf("the leader's error: %v", err)
	}
	stop()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}

// TestRelay_ReachesEveryNode: a signal one node relays reaches every
// node's subscribers, its own too, once each; a stopped subscriber gets
// nothing more; an oversized one is refused.
func TestRelay_ReachesEveryNode(t *testing.T) {
	ctx := context.Background()
	url, key := pgtest.NewDatabase(t), secret.MustNew()
	a, b := openNode(t, url, key), openNode(t, url, key)
	got := map[string]chan string{"a": make(chan string, 10), "b": make(chan string, 10)}
	stopA := a.OnRelay(func(p []byte) { got["a"] <- string(p) })
	defer b.OnRelay(func(p []byte) { got["b"] <- string(p) })()
	if err := b.Relay(ctx, []byte(`{"typing":"cv_1"}`)); err != nil {
		t.Fatal(err)
	}
	for _, node := range []string{"a", "b"} {
		if p := <-got[node]; p != `{"typing":"cv_1"}` {
			t.Fatalf("node %s got %s", node, p)
		}
	}
	stopA()
	if err := a.Relay(ctx, []byte("second")); err != nil {
		t.Fatal(err)
	}
	if p := <-got["b"]; p != "second" {
		t.Fatalf("node b got %s", p)
	}
	select {
	case p := <-got["a"]:
		t.Fatalf("a stopped subscriber got %s", p)
	default:
	}
	if err := a.Relay(ctx, make([]byte, postgres.MaxRelay+1)); err == nil {
		t.Fatal("an oversized payload was relayed")
	}
}
