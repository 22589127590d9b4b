package telegram_test

import (
	"bytes"
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/channels/internal/hubtest"
)

// TestMedia_GetFileThenDownloadOnce: a photo is fetched by getFile and the
// bot-token download address, once (a redelivered update fetches
// nothing).
func TestMedia_GetFileThenDownloadOnce(t *testing.T) {
	env, fake := setup(t, "")
	photo := hubtest.JPEG(41)
	body, _ := fake.PhotoUpdate(userID, "Ana", "the dent", fake.AddFile("dent.jpg", photo), len(photo))
	post(t, env, secret, body)
	post(t, env, secret, body)
	msgs := env.Messages()
	if len(msgs) != 1 || len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0].State != backend.MediaFetching {
		t.Fatalf("stored %+v", msgs)
	}
	if n := env.RunMedia(); n != 1 {
		t.Fatalf("fetched %d files", n)
	}
	a := env.Message(msgs[0].ID).Attachments[0]
	if f, data := env.Media(a.URL); a.State != "" || a.Type != "image/jpeg" || !bytes.Equal(data, photo) || f.ConversationID != msgs[0].ConversationID {
		t.Fatalf("attachment %+v", a)
	}
	if n := env.RunMedia(); n != 0 || fake.Downloads() != 1 {
		t.Fatalf("a second pass fetched %d (downloads %d)", n, fake.Downloads())
	}
}

// TestMedia_AgentFileUploaded: an agent's picture goes with sendPhoto and
// a PDF with sendDocument, each as a multipart upload.
func TestMedia_AgentFileUploaded(t *testing.T) {
	env, fake := setup(t, "")
	body, _ := fake.TextUpdate(userID, "Ana", "send the label and the invoice")
	post(t, env, secret, body)
	in := env.Messages()[0]
	label, pdf := hubtest.JPEG(42), []byte("%PDF-1.4 invoice")
	out := env.ReplyWith(in, "Both attached", env.Upload(in, "label.jpg", "image/jpeg", label), env.Upload(in, "invoice.pdf", "application/pdf", pdf))
	env.RunOutbox()
	if m := env.Message(out.ID); m.Status != backend.DeliverySent {
		t.Fatalf("reply %s %q", m.Status, m.Error)
	}
	var methods []string
	for _, u := range fake.Uploads() {
		methods = append(methods, u.Method+" "+u.Name)
		if u.ChatID != "123456789" {
			t.Errorf("upload to %s", u.ChatID)
		}
	}
	if got := strings.Join(methods, ", "); got != "sendPhoto label.jpg, sendDocument invoice.pdf" {
		t.Fatalf("uploads %s", got)
	}
	if u := fake.Uploads(); !bytes.Equal(u[0].Data, label) || !bytes.Equal(u[1].Data, pdf) {
		t.Fatal("uploaded bytes differ")
	}
}
