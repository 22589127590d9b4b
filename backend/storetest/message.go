package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/secret"
)

func testReopenKeepsTheLog(t *testing.T, h harness) {
	where, key := h.b.New(t), secret.MustNew()
	db := h.openWith(t, where, Options{Key: key})
	if _, _, err := db.StoreInbound(context.Background(), &backend.InboundMessage{
		Channel: "sms.twilio", Instance: "main", ExternalUserID: "+15550001111", ExternalID: "SM1", Text: "hello",
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2 := h.openWith(t, where, Options{Key: key})
	seq, err := db2.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if seq != 3 { // contact, message, conversation
		t.Fatalf("last seq after reopen = %d, want 3", seq)
	}
}

func testNotifyAfterCommit(t *testing.T, h harness) {
	db := h.open(t)
	ch, stop := db.Notify()
	defer stop()
	if _, _, err := db.StoreInbound(context.Background(), &backend.InboundMessage{
		Channel: "telegram", Instance: "bot", ExternalUserID: "42", ExternalID: "1", Text: "hi",
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no notification after a commit that appended events")
	}
}

func testStoreInboundDedupesRedelivery(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
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

func testPhoneIsOneContactAcrossChannels(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
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

func testMergeContactsJoinsHistories(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
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

func testStoreOutboundIdempotentByClientID(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
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

func testSetDeliveryStatusOnlyMovesForward(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
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

func testEventsSinceCarryEntities(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
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
	if strings.Join(types, ",") != strings.Join(want, ",") {
		t.Fatalf("event types = %v, want %v", types, want)
	}
	more, _ := db.EventsSince(ctx, 2, 100)
	if len(more) != 1 || more[0].Seq != 3 {
		t.Fatalf("since 2 = %+v", more)
	}
}

func testImportInboundOneTransaction(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
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

// testAttachmentsUnsafeURLsNeverStored: an inbound message keeps its
// files but not a URL that could run script; a file inside the message is
// kept by the engine; an agent's reply with such a URL is refused.
func testAttachmentsUnsafeURLsNeverStored(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	m, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "custom", Instance: "shop", ExternalUserID: "u1", ExternalID: "e1",
		Attachments: []backend.Attachment{
			{URL: "javascript:alert(document.cookie)", Type: "image/png", Name: "evil.png"},
			{URL: "https://cdn.example.com/photo.png", Type: "image/png"},
			{URL: "data:text/plain;base64,aGVsbG8=", Name: "note.txt"},
			{URL: "data:text/html,<script>alert(1)</script>", Name: "page.html"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := db.FindMessageByID(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	a := stored.Attachments
	if len(a) != 4 || a[0].URL != "" || a[0].Name != "evil.png" || a[1].URL != "https://cdn.example.com/photo.png" ||
		!strings.HasPrefix(a[2].URL, backend.MediaPath) || a[2].Type != "text/plain" || a[2].Size != 5 || a[3].URL != "" {
		t.Fatalf("stored attachments %+v", a)
	}
	f, err := db.MediaFile(ctx, strings.TrimPrefix(a[2].URL, backend.MediaPath))
	if err != nil || f.Name != "note.txt" || f.Type != "text/plain" || f.ConversationID != m.ConversationID || f.State != backend.MediaReady {
		t.Fatalf("kept file %+v %v", f, err)
	}
	if data, err := db.MediaContent(ctx, f.ID); err != nil || string(data) != "hello" {
		t.Fatalf("kept file's bytes %q %v", data, err)
	}
	if _, err := db.MediaFile(ctx, "me_nope"); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("unknown file: %v", err)
	}
	evs, _ := db.EventsSince(ctx, 0, 100)
	for _, e := range evs {
		if strings.Contains(string(e.Data), "javascript:") || strings.Contains(string(e.Data), "data:") {
			t.Fatalf("event %s carries %s", e.Type, e.Data)
		}
	}

	_, _, err = db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: m.ConversationID, Text: "see", ClientID: "c1",
		Attachments: []backend.Attachment{{URL: "https://ok.example/a.pdf"}, {URL: "javascript:alert(1)"}}})
	if backend.ErrorCode(err) != backend.EInvalid || !strings.Contains(backend.ErrorMessage(err), "Attachment 2") {
		t.Fatalf("reply with a javascript: attachment: %v", err)
	}
	if _, _, err := db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: m.ConversationID, Text: "see", ClientID: "c2",
		Attachments: []backend.Attachment{{URL: a[2].URL}, {URL: "https://ok.example/a.pdf"}}}); err != nil {
		t.Fatalf("reply with the engine's file and a web URL: %v", err)
	}
}
