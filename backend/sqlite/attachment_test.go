package sqlite_test

import (
	"context"
	"strings"
	"testing"

	"switchboard/backend"
)

// TestAttachments_UnsafeURLsNeverStored: an inbound message keeps its
// files but not a URL that could run script; a file inside the message is
// kept by the engine; an agent's reply with such a URL is refused.
func TestAttachments_UnsafeURLsNeverStored(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
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
