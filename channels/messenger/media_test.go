package messenger_test

import (
	"bytes"
	"testing"

	"switchboard/backend"
	"switchboard/channels/internal/hubtest"
)

// TestMedia_FetchedFromTheCDNStoredOnce: a picture's signed CDN address
// is fetched once, before it expires, and the file kept in the
// conversation (a redelivered webhook fetches nothing).
func TestMedia_FetchedFromTheCDNStoredOnce(t *testing.T) {
	each(t, func(s *suite) {
		photo := hubtest.JPEG(21)
		body, _ := s.fake.MediaMessage(user, "image", photo)
		s.post(body)
		s.post(body)
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
		if n := s.env.RunMedia(); n != 0 || s.fake.CDNGets() != 1 {
			t.Fatalf("a second pass fetched %d (CDN requests %d)", n, s.fake.CDNGets())
		}
	})
}

// TestMedia_AgentFileReachesTheUser: an agent's file reaches the user
// through the Send API's attachment message.
func TestMedia_AgentFileReachesTheUser(t *testing.T) {
	each(t, func(s *suite) {
		body, _ := s.fake.TextMessage(user, "a photo of the label?")
		s.post(body)
		in := s.env.Messages()[0]
		label := hubtest.JPEG(22)
		out := s.env.ReplyWith(in, "", s.env.Upload(in, "label.jpg", "image/jpeg", label))
		s.env.RunOutbox()
		if m := s.env.Message(out.ID); m.Status != backend.DeliverySent {
			t.Fatalf("reply %s %q", m.Status, m.Error)
		}
		got := s.fake.Delivered()
		if len(got) != 1 || got[0].Recipient != user || got[0].Type != "image" || !bytes.Equal(got[0].Data, label) {
			t.Fatalf("delivered %+v", got)
		}
	})
}
