package storetest

import (
	"context"
	"fmt"
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

// testOutboxPeopleBeforeBots: an agent's reply is claimed before bot
// messages already waiting on the same instance, while within one
// conversation the order stays as written.
func testOutboxPeopleBeforeBots(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := db.PutChannelInstance(ctx, &backend.ChannelInstance{Connector: "email", Instance: "support", Config: []byte(`{}`), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	conv := func(n int) string {
		in, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "email", Instance: "support",
			ExternalUserID: fmt.Sprintf("c%d@example.net", n), ExternalID: fmt.Sprintf("m%d", n), Text: "hello"})
		if err != nil {
			t.Fatal(err)
		}
		return in.ConversationID
	}
	store := func(convID, text, author string) string {
		m, _, err := db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: convID, Text: text, AuthorID: author})
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	// A burst of bot answers, then an agent's reply in another conversation
	// and, in the first one, an agent's reply behind the bot's answer.
	var bots []string
	first := conv(0)
	bots = append(bots, store(first, "bot 0", ""))
	for i := 1; i < 5; i++ {
		bots = append(bots, store(conv(i), fmt.Sprintf("bot %d", i), ""))
	}
	agent := store(conv(9), "agent", "us_agent")
	behind := store(first, "agent after the bot", "us_agent")
	if n, err := db.EnqueueOutbox(ctx, now); err != nil || n != 7 {
		t.Fatalf("enqueued %d, %v", n, err)
	}
	var order []string
	for {
		jobs, err := db.ClaimOutbox(ctx, now, now.Add(time.Minute), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 0 {
			break
		}
		order = append(order, jobs[0].Message.ID)
		if _, err := db.CompleteOutbox(ctx, jobs[0].ID, "x"+jobs[0].Message.ID, backend.DeliverySent); err != nil {
			t.Fatal(err)
		}
	}
	if len(order) != 7 || order[0] != agent {
		t.Fatalf("claimed %v; want the agent's reply %s first", order, agent)
	}
	pos := map[string]int{}
	for i, id := range order {
		pos[id] = i
	}
	if pos[behind] < pos[bots[0]] {
		t.Fatalf("within a conversation the agent's reply overtook the bot's earlier answer: %v", order)
	}
	for i := 1; i < len(bots); i++ {
		if pos[bots[i]] < pos[bots[i-1]] {
			t.Fatalf("bot messages out of order: %v", order)
		}
	}
}

// After a crash a claimed reply is in doubt (may have reached the
// platform) only if its send may have started: the hub sends one
// instance's jobs of a claim in order, so one after a job still sending
// never started, and its attempt is not counted twice.
func testOutboxOnlyStartedSendsAreInDoubt(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reply := func(instance string, n int) string {
		in, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "email", Instance: instance,
			ExternalUserID: fmt.Sprintf("c%d@example.net", n), ExternalID: fmt.Sprintf("%s%d", instance, n), Text: "hello"})
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: in.ConversationID, Text: "answer"})
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	for _, inst := range []string{"support", "sales"} {
		if err := db.PutChannelInstance(ctx, &backend.ChannelInstance{Connector: "email", Instance: inst, Config: []byte(`{}`), Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	a0, a1, a2, b0 := reply("support", 0), reply("support", 1), reply("support", 2), reply("sales", 3)
	if n, err := db.EnqueueOutbox(ctx, now); err != nil || n != 4 {
		t.Fatalf("enqueued %d, %v", n, err)
	}
	jobs, err := db.ClaimOutbox(ctx, now, now.Add(time.Minute), 10)
	if err != nil || len(jobs) != 4 {
		t.Fatalf("claim: %v, %d jobs", err, len(jobs))
	}
	byMsg := map[string]*backend.OutboxJob{}
	for _, j := range jobs {
		byMsg[j.Message.ID] = j
	}
	// support sent a0 and had a1 on the wire, sales had b0 on the wire,
	// when the sender died: a2 was claimed but never sent. The claim's
	// lease runs out.
	if _, err := db.CompleteOutbox(ctx, byMsg[a0].ID, "x0", backend.DeliverySent); err != nil {
		t.Fatal(err)
	}
	later := now.Add(2 * time.Minute)
	again, err := db.ClaimOutbox(ctx, later, later.Add(time.Minute), 10)
	if err != nil || len(again) != 3 {
		t.Fatalf("reclaim: %v, %d jobs", err, len(again))
	}
	want := map[string]struct {
		inDoubt  bool
		attempts int
	}{a1: {true, 2}, a2: {false, 1}, b0: {true, 2}}
	for _, j := range again {
		if w := want[j.Message.ID]; j.InDoubt != w.inDoubt || j.Attempts != w.attempts {
			t.Errorf("job of %s: in doubt %v after %d attempts, want %v after %d", j.Message.ID, j.InDoubt, j.Attempts, w.inDoubt, w.attempts)
		}
	}
	// The new claim numbers them afresh: a2 now comes after a1 in it, so a
	// second crash before a1's outcome leaves a2 unstarted again.
	later = later.Add(2 * time.Minute)
	third, err := db.ClaimOutbox(ctx, later, later.Add(time.Minute), 10)
	if err != nil || len(third) != 3 {
		t.Fatalf("third claim: %v, %d jobs", err, len(third))
	}
	for _, j := range third {
		if j.Message.ID == a2 && (j.InDoubt || j.Attempts != 1) {
			t.Errorf("a2 after a second crash: in doubt %v after %d attempts", j.InDoubt, j.Attempts)
		}
	}
}
