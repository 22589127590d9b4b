package twilio_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/channels/internal/hubtest"
	"switchboard/channels/twilio"
)

// TestMedia_FetchedWithAuthStoredOnce: an MMS's media stay on Twilio behind
// basic auth and a redirect to an address that expires; the engine fetches
// each file once (a redelivered webhook fetches nothing), and two copies
// of the same picture share one stored content.
func TestMedia_FetchedWithAuthStoredOnce(t *testing.T) {
	env, fake := setup(t, twilio.SMS)
	photo := hubtest.JPEG(1)
	p := fake.InboundParams(customer, business, "my receipt", fake.AddMedia("image/jpeg", photo), fake.AddMedia("image/jpeg", photo))
	for range 2 { // Twilio may deliver a webhook twice
		if status, _ := post(t, env, fake, twilio.SMS, p); status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
	}
	msgs := env.Messages()
	if len(msgs) != 1 || len(msgs[0].Attachments) != 2 || msgs[0].Attachments[0].State != backend.MediaFetching {
		t.Fatalf("stored %+v", msgs)
	}
	if fake.MediaGets() != 0 {
		t.Fatal("media fetched before the webhook was answered")
	}
	if n := env.RunMedia(); n != 2 {
		t.Fatalf("fetched %d files, want 2", n)
	}
	m := env.Message(msgs[0].ID)
	var hashes []string
	for _, a := range m.Attachments {
		f, data := env.Media(a.URL)
		if a.State != "" || a.Type != "image/jpeg" || a.Size != int64(len(photo)) || !bytes.Equal(data, photo) || f.ConversationID != m.ConversationID {
			t.Fatalf("attachment %+v, file %+v", a, f)
		}
		hashes = append(hashes, f.Hash)
	}
	if hashes[0] != hashes[1] {
		t.Fatal("the same picture is stored twice")
	}
	if n := env.RunMedia(); n != 0 || fake.MediaGets() != 2 {
		t.Fatalf("a second pass fetched %d (fake served %d)", n, fake.MediaGets())
	}
}

// TestMedia_GoneIsAClearFailure: a MediaUrl Twilio no longer has fails at
// once with the reason, on the message, without retrying.
func TestMedia_GoneIsAClearFailure(t *testing.T) {
	env, fake := setup(t, twilio.SMS)
	gone := strings.Replace(fake.AddMedia("image/jpeg", hubtest.JPEG(2)), "/Media/ME", "/Media/MEgone", 1)
	post(t, env, fake, twilio.SMS, fake.InboundParams(customer, business, "", gone))
	env.RunMedia()
	a := env.Messages()[0].Attachments[0]
	if a.State != backend.MediaFailed || !strings.Contains(a.Error, "no longer has this file") {
		t.Fatalf("attachment %+v", a)
	}
	if n := env.RunMedia(); n != 0 {
		t.Fatalf("retried a file Twilio does not have: %d", n)
	}
}

// TestMedia_AgentFileGoesAsMediaUrl: an agent's picture goes to Twilio as a
// MediaUrl on the engine's public address, which Twilio fetches; a file
// MMS cannot carry is refused with a sentence.
func TestMedia_AgentFileGoesAsMediaUrl(t *testing.T) {
	env, fake := setup(t, twilio.SMS)
	post(t, env, fake, twilio.SMS, fake.InboundParams(customer, business, "send me the label"))
	in := env.Messages()[0]
	label := hubtest.JPEG(3)
	out := env.ReplyWith(in, "Here it is", env.Upload(in, "label.jpg", "image/jpeg", label))
	env.RunOutbox()
	if m := env.Message(out.ID); m.Status != backend.DeliveryQueued || m.ExternalID == "" {
		t.Fatalf("message %+v", m)
	}
	got := fake.Fetched()
	if len(got) != 1 || got[0].Status != http.StatusOK || !bytes.Equal(got[0].Data, label) || got[0].Type != "image/jpeg" ||
		!strings.HasPrefix(got[0].URL, env.Server.URL+"/shared/") {
		t.Fatalf("Twilio fetched %+v", got)
	}
	form := fake.Requests()[0].Form
	if form.Get("Body") != "Here it is" || len(form["MediaUrl"]) != 1 {
		t.Fatalf("form %v", form)
	}

	huge := env.ReplyWith(in, "", env.Upload(in, "video.mov", "video/quicktime", bytes.Repeat([]byte{1}, 6<<20)))
	env.RunOutbox()
	if m := env.Message(huge.ID); m.Status != backend.DeliveryFailed || !strings.Contains(m.Error, "too large for SMS (Twilio)") {
		t.Fatalf("oversized file: %s %q", m.Status, m.Error)
	}
}
