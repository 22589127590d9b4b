package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"switchboard/app/cache"
	"switchboard/app/client"
	"switchboard/backend"
	"switchboard/backend/server"
)

// TestResolveMedia_OnlyTheEnginesOwnPaths: a web chat file becomes an
// address on the engine; a kept file stays a path the page asks Media for.
func TestResolveMedia_OnlyTheEnginesOwnPaths(t *testing.T) {
	atts := func() []backend.Attachment {
		return []backend.Attachment{{URL: "/media/me_1"}, {URL: "/widget/site/files/up_2"}, {URL: "https://cdn.example.com/a.png"},
			{URL: "javascript:alert(1)"}, {URL: "/api/conversations"}, {URL: ""}}
	}
	d := &cache.Detail{Messages: []backend.Message{{Attachments: atts()}}, Timeline: []cache.TimelineItem{{Message: backend.Message{Attachments: atts()}}}}
	resolveMedia(d, "https://sb.example.com")
	want := []string{"/media/me_1", "https://sb.example.com/widget/site/files/up_2", "https://cdn.example.com/a.png",
		"javascript:alert(1)", "/api/conversations", ""}
	for _, got := range [][]backend.Attachment{d.Messages[0].Attachments, d.Timeline[0].Attachments} {
		for i, a := range got {
			if a.URL != want[i] {
				t.Errorf("attachment %d: %q, want %q", i, a.URL, want[i])
			}
		}
	}
}

// TestMedia_ThroughTheEngineAndCachedOffline: the desktop reads a file of
// the agent's conversation through the engine with the session's token,
// is refused a file of a conversation the agent may not read, and reads
// the file it opened before from its cache when the engine is out of
// reach.
func TestMedia_ThroughTheEngineAndCachedOffline(t *testing.T) {
	requireKeyring(t)
	a := newTestApp(t, t.TempDir())
	if _, err := a.SignIn(SignInRequest{Email: "ana@example.com", Password: server.DemoPassword}); err != nil {
		t.Fatal(err)
	}
	var offers []Offer
	eventually(t, "the web chat offer", func() bool { offers, _ = a.Offers(); return len(offers) == 1 })
	if err := a.AcceptOffer(offers[0].ReservationID); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	photo := []byte("\x89PNG\r\n\x1a\n a photo of the parcel")
	mine := &backend.MediaFile{ConversationID: offers[0].ConversationID, Name: "parcel.png", Type: "image/png"}
	if err := a.engine.DB.PutMedia(ctx, mine, photo); err != nil {
		t.Fatal(err)
	}
	in, _, err := a.engine.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: "sms.twilio", Instance: "main", ExternalUserID: "+15550009999", ExternalID: "SMx", Text: "not Ana's"})
	if err != nil {
		t.Fatal(err)
	}
	theirs := &backend.MediaFile{ConversationID: in.ConversationID, Name: "other.png", Type: "image/png"}
	if err := a.engine.DB.PutMedia(ctx, theirs, photo); err != nil {
		t.Fatal(err)
	}

	want := "data:image/png;base64," + base64.StdEncoding.EncodeToString(photo)
	if got, err := a.Media(backend.MediaPath + mine.ID); err != nil || got != want {
		t.Fatalf("own file: %.60q, %v", got, err)
	}
	if _, err := a.Media(backend.MediaPath + theirs.ID); err == nil || !strings.Contains(err.Error(), backend.ENotFound) {
		t.Fatalf("another conversation's file: %v", err)
	}
	if _, err := a.Media("/api/me"); err == nil || !strings.Contains(err.Error(), backend.EInvalid) {
		t.Fatalf("not a file path: %v", err)
	}

	// With the engine out of reach the cache answers for what was opened.
	s, err := a.current()
	if err != nil {
		t.Fatal(err)
	}
	offline := &session{client: client.New("http://127.0.0.1:1", "token"), cache: s.cache}
	typ, data, err := fetchMedia(offline, backend.MediaPath+mine.ID)
	if err != nil || typ != "image/png" || !bytes.Equal(data, photo) {
		t.Fatalf("offline: %q %q %v", typ, data, err)
	}
	if _, _, err := fetchMedia(offline, backend.MediaPath+theirs.ID); backend.ErrorCode(err) != backend.EUnavailable {
		t.Fatalf("offline, never opened: %v", err)
	}
}

// TestSendReplyWith_UploadsFilesAndSends: a reply with a file uploads it
// to the conversation and sends it, with the Cc the agent chose; the file
// then reads back through Media. A channel that cannot carry files refuses
// them with a sentence, and an unreadable file is refused.
func TestSendReplyWith_UploadsFilesAndSends(t *testing.T) {
	requireKeyring(t)
	a := newTestApp(t, t.TempDir())
	if _, err := a.SignIn(SignInRequest{Email: "ana@example.com", Password: server.DemoPassword}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in, _, err := a.engine.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: "email", Instance: "support", ExternalUserID: "hana@example.net",
		ExternalID: "h1@example.net", Text: "Please send the label", Cc: []string{"ivan@partner.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.engine.DB.SaveRouting(ctx, &backend.RoutingChange{Access: []*backend.ConversationAccess{{ConversationID: in.ConversationID,
		Users: map[string]string{userID(t, a, "ana@example.com"): backend.AccessOwner}}}}); err != nil {
		t.Fatal(err)
	}
	photo := []byte("\x89PNG\r\n\x1a\n the label")
	file := ReplyFile{Name: "label.png", Type: "image/png", Data: base64.StdEncoding.EncodeToString(photo)}
	m, err := a.SendReplyWith(in.ConversationID, "Here is the label", []ReplyFile{file}, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "Here is the label" || len(m.Attachments) != 1 || m.Attachments[0].Name != "label.png" || m.Attachments[0].Type != "image/png" {
		t.Fatalf("message %+v", m)
	}
	if got, err := a.Media(m.Attachments[0].URL); err != nil || got != "data:image/png;base64,"+base64.StdEncoding.EncodeToString(photo) {
		t.Fatalf("the sent file reads back as %.40q, %v", got, err)
	}
	if _, err := a.SendReplyWith(in.ConversationID, "", []ReplyFile{{Name: "x.png", Data: "not base64!"}}, nil); err == nil || !strings.Contains(err.Error(), backend.EInvalid) {
		t.Fatalf("unreadable file: %v", err)
	}

	var offers []Offer
	eventually(t, "the web chat offer", func() bool { offers, _ = a.Offers(); return len(offers) == 1 })
	if err := a.AcceptOffer(offers[0].ReservationID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SendReplyWith(offers[0].ConversationID, "", []ReplyFile{file}, nil); err == nil || !strings.Contains(err.Error(), "cannot carry files") {
		t.Fatalf("a file on web chat: %v", err)
	}
}
