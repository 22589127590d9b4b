package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
)

// png is the start of a PNG file, enough for its type to be sniffed.
var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

// attachmentOf returns the message's attachment that names the kept file id.
func attachmentOf(t *testing.T, db Store, msgID, id string) backend.Attachment {
	t.Helper()
	m, err := db.FindMessageByID(context.Background(), msgID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range m.Attachments {
		if a.URL == backend.MediaPath+id {
			return a
		}
	}
	t.Fatalf("message %s has no attachment %s: %+v", msgID, id, m.Attachments)
	return backend.Attachment{}
}

// testMediaFetchedOnceAndSettled: a file the platform holds is kept as a
// file to fetch, claimed by one fetcher at a time until its lease ends,
// retried when asked, and once settled (kept or failed) its message's
// attachment follows with an event.
func testMediaFetchedOnceAndSettled(t *testing.T, h harness) {
	ctx := context.Background()
	c := &clock{}
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	c.set(now)
	db := h.openClock(t, c, Options{})
	m, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: "7", ExternalID: "1",
		Attachments: []backend.Attachment{{Ref: "file-1", Type: "image", Name: "photo"}, {Ref: "file-2", Name: "gone.pdf"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 2 || m.Attachments[0].State != backend.MediaFetching || !strings.HasPrefix(m.Attachments[0].URL, backend.MediaPath) {
		t.Fatalf("attachments %+v", m.Attachments)
	}
	photo := strings.TrimPrefix(m.Attachments[0].URL, backend.MediaPath)
	gone := strings.TrimPrefix(m.Attachments[1].URL, backend.MediaPath)
	if _, err := db.MediaContent(ctx, photo); backend.ErrorCode(err) != backend.EUnavailable {
		t.Fatalf("content of a file being fetched: %v", err)
	}

	lease := now.Add(time.Minute)
	fs, next, err := db.ClaimMediaFetches(ctx, now, lease, 10)
	if err != nil || len(fs) != 2 || fs[0].Attempts != 1 || fs[0].Source == "" || !next.Equal(lease) {
		t.Fatalf("claimed %+v, next %v, %v", fs, next, err)
	}
	if again, _, err := db.ClaimMediaFetches(ctx, now, lease, 10); err != nil || len(again) != 0 {
		t.Fatalf("claimed again under the lease: %+v %v", again, err)
	}
	retry := now.Add(5 * time.Minute)
	if err := db.SettleMediaFetch(ctx, photo, &backend.MediaFetch{Reason: "platform busy", RetryAt: retry}); err != nil {
		t.Fatal(err)
	}
	if fs, _, _ := db.ClaimMediaFetches(ctx, lease, retry.Add(time.Hour), 10); len(fs) != 1 || fs[0].ID != gone {
		t.Fatalf("after the lease, only the file not put off is due: %+v", fs)
	}
	if fs, _, _ := db.ClaimMediaFetches(ctx, retry, retry.Add(time.Minute), 10); len(fs) != 1 || fs[0].ID != photo || fs[0].Attempts != 2 {
		t.Fatalf("at the retry time: %+v", fs)
	}

	before, err := db.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SettleMediaFetch(ctx, photo, &backend.MediaFetch{Data: png, Name: "photo.png"}); err != nil {
		t.Fatal(err)
	}
	f, err := db.MediaFile(ctx, photo)
	if err != nil || f.State != backend.MediaReady || f.Type != "image/png" || f.Size != int64(len(png)) || f.Source != "" || f.Name != "photo" {
		t.Fatalf("kept file %+v %v", f, err)
	}
	if data, err := db.MediaContent(ctx, photo); err != nil || string(data) != string(png) {
		t.Fatalf("content %q %v", data, err)
	}
	if a := attachmentOf(t, db, m.ID, photo); a.State != "" || a.Type != "image/png" || a.Size != int64(len(png)) {
		t.Fatalf("attachment after the fetch %+v", a)
	}
	evs, err := db.EventsSince(ctx, before, 10)
	if err != nil || len(evs) != 1 || evs[0].Type != backend.EventMessageUpserted || evs[0].EntityID != m.ID {
		t.Fatalf("events after the fetch %+v %v", evs, err)
	}

	if err := db.SettleMediaFetch(ctx, gone, &backend.MediaFetch{Reason: "The platform no longer has the file."}); err != nil {
		t.Fatal(err)
	}
	if a := attachmentOf(t, db, m.ID, gone); a.State != backend.MediaFailed || a.Error != "The platform no longer has the file." {
		t.Fatalf("attachment after a failed fetch %+v", a)
	}
	if fs, next, _ := db.ClaimMediaFetches(ctx, retry.Add(time.Hour), retry.Add(2*time.Hour), 10); len(fs) != 0 || !next.IsZero() {
		t.Fatalf("settled files are not fetched again: %+v, next %v", fs, next)
	}
	if err := db.SettleMediaFetch(ctx, "me_nope", &backend.MediaFetch{Data: png}); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("settle an unknown file: %v", err)
	}
}

// testMediaRepliesCarryTheirConversationsFiles: an agent's upload becomes
// the reply's file with the store's name, type and size; a file of another
// conversation, one not fetched or an empty upload is refused; equal bytes
// are stored once.
func testMediaRepliesCarryTheirConversationsFiles(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	in := func(user string) *backend.Message {
		m, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: user, ExternalID: "m-" + user,
			Attachments: []backend.Attachment{{Ref: "later"}}})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	mine, theirs := in("1"), in("2")
	up := &backend.MediaFile{ConversationID: mine.ConversationID, Name: "notes.txt", Type: "application/octet-stream", UploadedBy: "us_ana"}
	if err := db.PutMedia(ctx, up, []byte("hello there")); err != nil {
		t.Fatal(err)
	}
	if up.ID == "" || up.State != backend.MediaReady || up.Type != "text/plain; charset=utf-8" || up.Channel != "telegram" || up.Hash == "" {
		t.Fatalf("upload %+v", up)
	}
	again := &backend.MediaFile{ConversationID: theirs.ConversationID, Name: "copy.txt"}
	if err := db.PutMedia(ctx, again, []byte("hello there")); err != nil || again.Hash != up.Hash || again.ID == up.ID {
		t.Fatalf("equal bytes: %+v (first %s) %v", again, up.Hash, err)
	}
	if err := db.PutMedia(ctx, &backend.MediaFile{ConversationID: mine.ConversationID}, nil); backend.ErrorCode(err) != backend.EInvalid {
		t.Fatalf("empty upload: %v", err)
	}
	if err := db.PutMedia(ctx, &backend.MediaFile{ConversationID: "cv_nope"}, []byte("x")); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("upload to an unknown conversation: %v", err)
	}

	reply, _, err := db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: mine.ConversationID, Text: "here", AuthorID: "us_ana",
		Attachments: []backend.Attachment{{URL: backend.MediaPath + up.ID, Name: "renamed.exe", Type: "application/x-evil"}}})
	if err != nil {
		t.Fatal(err)
	}
	if a := reply.Attachments; len(a) != 1 || a[0].Name != "notes.txt" || a[0].Type != up.Type || a[0].Size != 11 {
		t.Fatalf("reply's attachment %+v", a)
	}
	if f, err := db.MediaFile(ctx, up.ID); err != nil || f.MessageID != reply.ID {
		t.Fatalf("the upload is now the reply's: %+v %v", f, err)
	}
	for _, bad := range []string{again.ID, strings.TrimPrefix(mine.Attachments[0].URL, backend.MediaPath), "me_nope"} {
		_, _, err := db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: mine.ConversationID, Text: "x", AuthorID: "us_ana",
			Attachments: []backend.Attachment{{URL: backend.MediaPath + bad}}})
		if backend.ErrorCode(err) != backend.EInvalid || !strings.Contains(backend.ErrorMessage(err), "Attachment 1") {
			t.Fatalf("reply with file %s: %v", bad, err)
		}
	}
}

// testMediaWebchatUploadsBecomeConversationFiles: a visitor's upload
// carried by a message becomes a file of the conversation, sharing its
// bytes, still readable at the widget's address; an unattached upload is
// deleted with its bytes.
func testMediaWebchatUploadsBecomeConversationFiles(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	q := backend.UploadQuota{VisitorBytes: 1 << 20, TotalBytes: 1 << 20, Since: time.Now().Add(-time.Hour)}
	if err := db.PutWebchatUpload(ctx, "up1", "site", "visitor-1", "cat.png", "image/png", png, q); err != nil {
		t.Fatal(err)
	}
	if err := db.PutWebchatUpload(ctx, "up2", "site", "visitor-1", "left.txt", "text/plain", []byte("never sent"), q); err != nil {
		t.Fatal(err)
	}
	atts, err := db.AttachWebchatUploads(ctx, "site", "visitor-1", []string{"up1"}, func(id string) string { return "/widget/site/files/" + id })
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "webchat", Instance: "site", ExternalUserID: "visitor-1",
		ThreadKey: "visitor-1", Text: "look", Attachments: atts})
	if err != nil {
		t.Fatal(err)
	}
	f, err := db.MediaFile(ctx, "up1")
	if err != nil || f.ConversationID != m.ConversationID || f.MessageID != m.ID || f.State != backend.MediaReady || f.Size != int64(len(png)) {
		t.Fatalf("the visitor's upload as a conversation file %+v %v", f, err)
	}
	if data, err := db.MediaContent(ctx, "up1"); err != nil || string(data) != string(png) {
		t.Fatalf("content %q %v", data, err)
	}
	if subject, _, _, data, err := db.WebchatUpload(ctx, "site", "up1"); err != nil || subject != "visitor-1" || string(data) != string(png) {
		t.Fatalf("the widget's address %s %q %v", subject, data, err)
	}
	if n, err := db.DeleteOrphanWebchatUploads(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("deleted %d orphans, %v", n, err)
	}
	if _, _, _, _, err := db.WebchatUpload(ctx, "site", "up2"); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("the orphan after deletion: %v", err)
	}
	if _, _, _, data, err := db.WebchatUpload(ctx, "site", "up1"); err != nil || string(data) != string(png) {
		t.Fatalf("the attached upload after deleting orphans %q %v", data, err)
	}
}

// testPollerStateSavedAndRead: a poller's state is nil until saved, then
// the last one saved.
func testPollerStateSavedAndRead(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	if s, err := db.PollerState(ctx, "telegram", "bot"); err != nil || s != nil {
		t.Fatalf("before any save: %q %v", s, err)
	}
	for _, v := range []string{`{"offset":41}`, `{"offset":42}`} {
		if err := db.SavePollerState(ctx, "telegram", "bot", []byte(v)); err != nil {
			t.Fatal(err)
		}
		if s, err := db.PollerState(ctx, "telegram", "bot"); err != nil || string(s) != v {
			t.Fatalf("state %q %v, want %s", s, err, v)
		}
	}
	if s, err := db.PollerState(ctx, "email", "bot"); err != nil || s != nil {
		t.Fatalf("another connector's state: %q %v", s, err)
	}
}

// testInboundMailFieldsAndReferencedThread: an email's copies, problem and
// automatic mark are kept; a reply naming a stored message joins that
// message's conversation whatever its own thread key.
func testInboundMailFieldsAndReferencedThread(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	first, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "email", Instance: "support", ExternalUserID: "ann@example.net",
		ExternalID: "<a@example.net>", ThreadKey: "<a@example.net>", Text: "help", Cc: []string{"bob@example.net"},
		Problem: "The message's HTML part could not be read.", Automatic: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.FindMessageByID(ctx, first.ID)
	if err != nil || len(got.Cc) != 1 || got.Cc[0] != "bob@example.net" || got.Problem == "" || !got.Automatic {
		t.Fatalf("stored %+v %v", got, err)
	}
	reply, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "email", Instance: "support", ExternalUserID: "bob@example.net",
		ExternalID: "<b@example.net>", ThreadKey: "<other-root@example.net>", Text: "me too", Refs: []string{"<zzz@example.net>", "<a@example.net>"}})
	if err != nil {
		t.Fatal(err)
	}
	if reply.ConversationID != first.ConversationID {
		t.Fatalf("the reply opened %s, not the referenced %s", reply.ConversationID, first.ConversationID)
	}
	if got, _ := db.FindMessageByID(ctx, reply.ID); got.Cc != nil || got.Automatic || got.Problem != "" {
		t.Fatalf("a plain reply %+v", got)
	}
	out, _, err := db.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: first.ConversationID, Text: "on it", AuthorID: "us_ana", Cc: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := db.FindMessageByID(ctx, out.ID); got.Cc == nil || len(got.Cc) != 0 {
		t.Fatalf("a reply copying nobody keeps its empty list: %#v", got.Cc)
	}
}
