package whatsapp_test

import (
	"bytes"
	"net/http"
	"testing"

	"switchboard/backend"
	"switchboard/channels/internal/hubtest"
)

// TestMedia_FetchedByIDStoredOnce: a picture stays on WhatsApp under its
// media id; the engine asks for its short-lived address with the access
// token and downloads it once (a redelivered webhook fetches nothing).
func TestMedia_FetchedByIDStoredOnce(t *testing.T) {
	s := newSuite(t)
	photo := hubtest.JPEG(11)
	body, _ := s.fake.MediaMessage(waID, "image", s.fake.AddMedia("image/jpeg", photo), "image/jpeg", "the dent")
	for range 2 {
		if status := s.post(body); status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
	}
	msgs := s.env.Messages()
	if len(msgs) != 1 || len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0].State != backend.MediaFetching {
		t.Fatalf("stored %+v", msgs)
	}
	if n := s.env.RunMedia(); n != 1 {
		t.Fatalf("fetched %d files", n)
	}
	a := s.env.Message(msgs[0].ID).Attachments[0]
	if f, data := s.env.Media(a.URL); a.State != "" || a.Type != "image/jpeg" || !bytes.Equal(data, photo) || f.ConversationID != msgs[0].ConversationID {
		t.Fatalf("attachment %+v", a)
	}
	if n := s.env.RunMedia(); n != 0 || s.fake.MediaGets() != 1 {
		t.Fatalf("a second pass fetched %d (downloads %d)", n, s.fake.MediaGets())
	}
}

// TestMedia_AgentFileUploadedThenSent: an agent's file is uploaded to
// POST /{phone-number-id}/media and sent by the id it got.
func TestMedia_AgentFileUploadedThenSent(t *testing.T) {
	s := newSuite(t)
	body, _ := s.fake.TextMessage(waID, "Ana", "the invoice please")
	s.post(body)
	in := s.env.Messages()[0]
	pdf := []byte("%PDF-1.4 invoice 1001")
	out := s.env.ReplyWith(in, "Here it is", s.env.Upload(in, "invoice.pdf", "application/pdf", pdf))
	s.env.RunOutbox()
	if m := s.env.Message(out.ID); m.Status != backend.DeliverySent {
		t.Fatalf("reply %s %q", m.Status, m.Error)
	}
	sent := s.fake.SentMedia()
	if len(sent) != 1 || sent[0].To != waID || !bytes.Equal(sent[0].Data, pdf) || sent[0].Filename != "invoice.pdf" {
		t.Fatalf("sent %+v", sent)
	}
}
