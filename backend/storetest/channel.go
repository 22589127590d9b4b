package storetest

import (
	"context"
	"testing"
	"time"

	"switchboard/backend"
)

func testOutbox(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	in, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "sms.twilio", Instance: "main", ExternalUserID: "+15550001111", ExternalID: "SM1", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "webchat", Instance: "site", ExternalUserID: "v1", ExternalID: "w1", Text: "hi"})
	if err := db.PutChannelInstance(ctx, &backend.ChannelInstance{Connector: "sms.twilio", Instance: "main", Config: []byte(`{}`), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	first, _, _ := db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: in.ConversationID, Text: "one"})
	second, _, _ := db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: in.ConversationID, Text: "two"})
	db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: in.ConversationID, Text: "note", Private: true})
	db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: other.ConversationID, Text: "not ours"})

	if n, err := db.EnqueueOutbox(ctx, now); err != nil || n != 2 {
		t.Fatalf("enqueued %d, %v; want the 2 public replies of the configured instance", n, err)
	}
	if n, _ := db.EnqueueOutbox(ctx, now); n != 0 {
		t.Fatalf("enqueued again: %d", n)
	}
	jobs, err := db.ClaimOutbox(ctx, now, now.Add(time.Minute), 10)
	if err != nil || len(jobs) != 1 || jobs[0].Message.ID != first.ID {
		t.Fatalf("claim: %v %+v; want only the conversation's first job", err, jobs)
	}
	j := jobs[0]
	if j.Attempts != 1 || j.InDoubt || j.LastInbound == nil || j.LastInbound.ExternalID != "SM1" || j.IdempotencyKey == "" {
		t.Fatalf("job %+v", j)
	}
	// The lease expires: the job comes back in doubt, with the same key.
	again, _ := db.ClaimOutbox(ctx, now.Add(2*time.Minute), now.Add(3*time.Minute), 10)
	if len(again) != 1 || !again[0].InDoubt || again[0].IdempotencyKey != j.IdempotencyKey || again[0].Attempts != 2 {
		t.Fatalf("reclaim %+v", again)
	}
	m, err := db.CompleteOutbox(ctx, j.ID, "SMout1", backend.DeliverySent)
	if err != nil || m.ExternalID != "SMout1" || m.Status != backend.DeliverySent {
		t.Fatalf("complete: %v %+v", err, m)
	}
	if found, err := db.FindMessageByExternalID(ctx, "sms.twilio", "main", "SMout1"); err != nil || found.ID != first.ID {
		t.Fatalf("by external id: %v %+v", err, found)
	}
	jobs, _ = db.ClaimOutbox(ctx, now.Add(2*time.Minute), now.Add(3*time.Minute), 10)
	if len(jobs) != 1 || jobs[0].Message.ID != second.ID {
		t.Fatalf("second claim %+v", jobs)
	}
	if err := db.RetryOutbox(ctx, jobs[0].ID, now.Add(time.Hour), "", false); err != nil {
		t.Fatal(err)
	}
	if at, ok, _ := db.NextOutboxDue(ctx); !ok || !at.Equal(now.Add(time.Hour)) {
		t.Fatalf("next due %v %v", at, ok)
	}
	jobs, _ = db.ClaimOutbox(ctx, now.Add(time.Hour), now.Add(2*time.Hour), 10)
	if len(jobs) != 1 || jobs[0].Attempts != 1 {
		t.Fatalf("a rate-limit delay counted as an attempt: %+v", jobs)
	}
	if m, err := db.FailOutbox(ctx, jobs[0].ID, "nope"); err != nil || m.Status != backend.DeliveryFailed || m.Error != "nope" {
		t.Fatalf("fail: %v %+v", err, m)
	}
}

func testThreadStatusAndInboundCursor(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	db.PutChannelInstance(ctx, &backend.ChannelInstance{Connector: "messenger", Instance: "page", Enabled: true})
	in, _, _ := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "messenger", Instance: "page", ExternalUserID: "PSID", ThreadKey: "P|PSID", ExternalID: "m1", Text: "hi"})
	db.StoreInbound(ctx, &backend.InboundMessage{Channel: "webchat", Instance: "x", ExternalUserID: "v", ExternalID: "w", Text: "not a channel instance"})
	out, _, _ := db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: in.ConversationID, Text: "reply"})
	changed, err := db.SetThreadDeliveryStatus(ctx, "messenger", "page", "P|PSID", backend.DeliveryRead, time.Now().Add(time.Hour))
	if err != nil || len(changed) != 1 || changed[0].ID != out.ID || changed[0].Status != backend.DeliveryRead {
		t.Fatalf("thread status: %v %+v", err, changed)
	}
	msgs, seqs, err := db.InboundAfter(ctx, 0, 10)
	if err != nil || len(msgs) != 1 || msgs[0].ID != in.ID {
		t.Fatalf("inbound after: %v %+v", err, msgs)
	}
	db.SetChannelCursor(ctx, "x", seqs[0])
	if v, _ := db.ChannelCursor(ctx, "x"); v != seqs[0] {
		t.Fatalf("cursor %d", v)
	}
	if msgs, _, _ := db.InboundAfter(ctx, seqs[0], 10); len(msgs) != 0 {
		t.Fatalf("after cursor: %+v", msgs)
	}
	if err := db.DeleteChannelInstance(ctx, "messenger", "page"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindChannelInstance(ctx, "messenger", "page"); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("after delete: %v", err)
	}
}
