package discord_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels/discord/discordtest"
	"switchboard/channels/internal/hubtest"
)

// TestMedia_ExpiredCDNAddressRefreshed: a DM's file sits on the CDN at a
// signed address that expires; fetched after it expired, the address is
// renewed through POST /attachments/refresh-urls and the file kept once.
func TestMedia_ExpiredCDNAddressRefreshed(t *testing.T) {
	env, fake := setup(t)
	var mu sync.Mutex
	now := time.Now()
	fake.SetNow(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	photo := hubtest.JPEG(51)
	fake.MessageWithFile("DM1", "", "42", "ana", "the dent", "dent.jpg", photo)
	waitFor(t, "the DM", func() bool { return count(env) == 1 })
	mu.Lock()
	now = now.Add(discordtest.AttachmentTTL + time.Hour) // the address has expired
	mu.Unlock()
	if n := env.RunMedia(); n != 1 {
		t.Fatalf("fetched %d files", n)
	}
	m := env.Messages()[0]
	a := m.Attachments[0]
	if f, data := env.Media(a.URL); a.State != "" || a.Name != "dent.jpg" || !bytes.Equal(data, photo) || f.ConversationID != m.ConversationID {
		t.Fatalf("attachment %+v", a)
	}
	if n := env.RunMedia(); n != 0 {
		t.Fatalf("a second pass fetched %d", n)
	}
}

// TestMedia_AgentFileUploadedWithTheMessage: an agent's file goes as a
// multipart upload with the message.
func TestMedia_AgentFileUploadedWithTheMessage(t *testing.T) {
	env, fake := setup(t)
	fake.Message("DM1", "", "42", "ana", "the label?")
	waitFor(t, "the DM", func() bool { return count(env) == 1 })
	in := env.Messages()[0]
	label := hubtest.JPEG(52)
	out := env.ReplyWith(in, "Here", env.Upload(in, "label.jpg", "image/jpeg", label))
	env.RunOutbox()
	if m := env.Message(out.ID); m.Status != backend.DeliverySent {
		t.Fatalf("reply %s %q", m.Status, m.Error)
	}
	sent := fake.Sent()
	if len(sent) != 1 || sent[0].ChannelID != "DM1" || len(sent[0].Files) != 1 || sent[0].Files[0].Name != "label.jpg" || !bytes.Equal(sent[0].Files[0].Data, label) {
		t.Fatalf("sent %+v", sent)
	}
}
