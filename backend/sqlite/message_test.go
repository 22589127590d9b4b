package sqlite_test

import (
	"context"
	"encoding/json"
	"testing"

	"switchboard/backend"
)

func TestStoreInbound_DedupesRedelivery(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	in := &backend.InboundMessage{Channel: "sms.twilio", Instance: "main", ExternalUserID: "+15550001111", ExternalID: "SM1", Text: "hello"}
	m1, created, err := db.StoreInbound(ctx, in)
	if err != nil || !created {
		t.Fatalf("first store: created=%v err=%v", created, err)
	}
	m2, created, err := db.StoreInbound(ctx, in)
	if err != nil || created {
		t.Fatalf("redelivery: created=%v err=%v", created, err)
	}
	if m1.ID != m2.ID {
		t.Fatalf("redelivery returned %s, want %s", m2.ID, m1.ID)
	}
	msgs, err := db.FindMessages(ctx, m1.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
}

func TestStoreInbound_PhoneIsOneContactAcrossChannels(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	sms, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "sms.twilio", Instance: "main", ExternalUserID: "+15550001111", ExternalID: "SM1", Text: "sms"})
	if err != nil {
		t.Fatal(err)
	}
	wa, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "whatsapp.twilio", Instance: "main", ExternalUserID: "whatsapp:+15550001111", ExternalID: "SM2", Text: "wa"})
	if err != nil {
		t.Fatal(err)
	}
	if sms.ContactID != wa.ContactID {
		t.Fatalf("sms contact %s != whatsapp contact %s", sms.ContactID, wa.ContactID)
	}
	if sms.ConversationID == wa.ConversationID {
		t.Fatal("two channels share one conversation")
	}
	c, err := db.FindContactByID(ctx, sms.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Identities) != 2 || c.Phone != "+15550001111" {
		t.Fatalf("contact = %+v", c)
	}
}

func TestMergeContacts_JoinsHistories(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	a, _, _ := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: "1", ExternalID: "1", Text: "a"})
	b, _, _ := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "line", Instance: "main", ExternalUserID: "U1", ExternalID: "1", Text: "b"})
	merged, err := db.MergeContacts(ctx, a.ContactID, b.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Identities) != 2 {
		t.Fatalf("identities = %+v", merged.Identities)
	}
	convs, err := db.FindConversations(ctx, backend.ConversationFilter{ContactID: a.ContactID})
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) != 2 {
		t.Fatalf("conversations of merged contact = %d, want 2", len(convs))
	}
	if _, err := db.MergeContacts(ctx, a.ContactID, a.ContactID); backend.ErrorCode(err) != backend.EInvalid {
		t.Fatalf("self merge err = %v", err)
	}
}

func TestStoreOutbound_IdempotentByClientID(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	in, _, _ := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: "1", ExternalID: "1", Text: "a"})
	out := &backend.OutboundMessage{ConversationID: in.ConversationID, Text: "reply", ClientID: "c-1"}
	m1, created1, err := db.StoreOutbound(ctx, out)
	if err != nil || !created1 {
		t.Fatal(created1, err)
	}
	m2, created2, err := db.StoreOutbound(ctx, out)
	if err != nil || created2 || m2.ID != m1.ID {
		t.Fatalf("second send: created=%v id=%s err=%v", created2, m2.ID, err)
	}
	if _, _, err := db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: "cv_missing", Text: "x"}); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("unknown conversation err = %v", err)
	}
	if _, _, err := db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: in.ConversationID, Text: "  "}); backend.ErrorCode(err) != backend.EInvalid {
		t.Fatalf("empty text err = %v", err)
	}
}

func TestSetDeliveryStatus_OnlyMovesForward(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	in, _, _ := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: "1", ExternalID: "1", Text: "a"})
	m, _, _ := db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: in.ConversationID, Text: "reply"})
	for _, tc := range []struct{ set, want string }{
		{backend.DeliveryDelivered, backend.DeliveryDelivered},
		{backend.DeliverySent, backend.DeliveryDelivered}, // late, out of order
		{backend.DeliveryRead, backend.DeliveryRead},
		{backend.DeliveryFailed, backend.DeliveryFailed},
		{backend.DeliveryRead, backend.DeliveryFailed},
	} {
		got, err := db.SetDeliveryStatus(ctx, m.ID, tc.set, "")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != tc.want {
			t.Fatalf("after %s: status %s, want %s", tc.set, got.Status, tc.want)
		}
	}
}

func TestEventsSince_CarryEntities(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	m, _, _ := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: "1", ExternalID: "1", Text: "find me"})
	events, err := db.EventsSince(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
		types = append(types, e.Type)
		if e.Type == backend.EventMessageUpserted {
			var got backend.Message
			if err := json.Unmarshal(e.Data, &got); err != nil || got.ID != m.ID || got.Text != "find me" {
				t.Fatalf("message event = %s (%v)", e.Data, err)
			}
		}
	}
	want := []string{backend.EventContactUpserted, backend.EventMessageUpserted, backend.EventConversationUpserted}
	if len(types) != len(want) {
		t.Fatalf("event types = %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("event types = %v, want %v", types, want)
		}
	}
	more, _ := db.EventsSince(ctx, 2, 100)
	if len(more) != 1 || more[0].Seq != 3 {
		t.Fatalf("since 2 = %+v", more)
	}
}

func TestImportInbound_OneTransactionWithDedupe(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	batch := []*backend.InboundMessage{
		{Channel: "telegram", Instance: "bot", ExternalUserID: "1", ExternalID: "a", Text: "one"},
		{Channel: "telegram", Instance: "bot", ExternalUserID: "1", ExternalID: "b", Text: "two"},
		{Channel: "telegram", Instance: "bot", ExternalUserID: "1", ExternalID: "a", Text: "one again"},
	}
	n, err := db.ImportInbound(ctx, batch)
	if err != nil || n != 2 {
		t.Fatalf("imported %d (%v), want 2", n, err)
	}
	bad := []*backend.InboundMessage{{Channel: "telegram", Instance: "bot", ExternalUserID: "2", ExternalID: "c"}, {Channel: "telegram"}}
	if _, err := db.ImportInbound(ctx, bad); backend.ErrorCode(err) != backend.EInvalid {
		t.Fatalf("bad batch err = %v", err)
	}
	if _, err := db.FindMessageByExternalID(ctx, "telegram", "bot", "c"); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("a failed batch left message c behind: %v", err)
	}
}
