package postgres_test

import (
	"context"
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
	taken, err := b.ClaimOutbox(ctx, now, now.Add(time.Hour), 10)
	if err != nil || len(taken) != 1 || !taken[0].InDoubt || taken[0].ID != jobs[0].ID {
		t.Fatalf("claim after a is gone: %v %+v; want its send in doubt", err, taken)
	}
}
