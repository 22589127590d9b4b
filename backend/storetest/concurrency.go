package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"switchboard/backend"
)

// testConcurrentOneCustomer: a new customer's first messages arrive at
// once (two webhooks, on SMS and WhatsApp from one number, perhaps on two
// nodes): one contact, one conversation per channel, every message once.
func testConcurrentOneCustomer(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	const each = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for i := range each {
		for _, ch := range []struct{ channel, from string }{{"sms.twilio", "+15550001111"}, {"whatsapp.twilio", "whatsapp:+15550001111"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: ch.channel, Instance: "main", ExternalUserID: ch.from,
					ExternalID: fmt.Sprintf("%s-%d", ch.channel, i), Text: "hello"})
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	m, err := db.FindMessageByExternalID(ctx, "sms.twilio", "main", "sms.twilio-0")
	if err != nil {
		t.Fatal(err)
	}
	convs, err := db.FindConversations(ctx, backend.ConversationFilter{ContactID: m.ContactID})
	if err != nil || len(convs) != 2 {
		t.Fatalf("the customer has %d conversations (%v), want one per channel", len(convs), err)
	}
	for _, c := range convs {
		msgs, err := db.FindMessages(ctx, c.ID)
		if err != nil || len(msgs) != each {
			t.Fatalf("conversation %s on %s has %d messages (%v), want %d", c.ID, c.Channel, len(msgs), err, each)
		}
	}
	c, err := db.FindContactByID(ctx, m.ContactID)
	if err != nil || len(c.Identities) != 2 {
		t.Fatalf("contact %+v (%v), want one with two identities", c, err)
	}
}

// testFeedNoGaps: while writers commit concurrently, a reader following
// the feed always finds the next sequence right after the last it saw: the
// log never shows a gap that a slower transaction fills later.
func testFeedNoGaps(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	const writers, each = 6, 25
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot",
					ExternalUserID: fmt.Sprintf("u%d-%d", w, i%3), ExternalID: fmt.Sprintf("%d-%d", w, i), Text: "hi"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	var last int64
	seen := 0
	for {
		finished := false
		select {
		case <-done:
			finished = true
		default:
		}
		events, err := db.EventsSince(ctx, last, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if finished && len(events) == 0 {
			break
		}
		for _, e := range events {
			if e.Seq != last+1 {
				t.Fatalf("after seq %d the feed showed %d: a gap", last, e.Seq)
			}
			last = e.Seq
			if e.Type == backend.EventMessageUpserted {
				seen++
			}
		}
	}
	if seen != writers*each {
		t.Fatalf("the feed carried %d messages, want %d", seen, writers*each)
	}
}
