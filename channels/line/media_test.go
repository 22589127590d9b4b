package line_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels/internal/hubtest"
)

// TestMedia_ContentFetchedWhenReady: a video's content is fetched from the
// content API with the channel token; while LINE still prepares it (202)
// the engine tries again later, then keeps it once.
func TestMedia_ContentFetchedWhenReady(t *testing.T) {
	env, fake := setup(t)
	video := bytes.Repeat([]byte("\x00\x00\x00\x18ftypmp42"), 100)
	body, _ := fake.FileEvent(userID, "video", "", video, 1)
	post(t, env, fake, body)
	post(t, env, fake, body)
	msgs := env.Messages()
	if len(msgs) != 1 || len(msgs[0].Attachments) != 1 {
		t.Fatalf("stored %+v", msgs)
	}
	env.RunMedia()
	if a := env.Message(msgs[0].ID).Attachments[0]; a.State != backend.MediaFetching {
		t.Fatalf("while LINE prepares the video: %+v", a)
	}
	env.Clock.Advance(time.Minute)
	if n := env.RunMedia(); n != 1 {
		t.Fatalf("second pass fetched %d", n)
	}
	a := env.Message(msgs[0].ID).Attachments[0]
	if f, data := env.Media(a.URL); a.State != "" || !bytes.Equal(data, video) || f.ConversationID != msgs[0].ConversationID || !strings.HasPrefix(a.Type, "video/") {
		t.Fatalf("attachment %+v", a)
	}
	if n := env.RunMedia(); n != 0 || fake.ContentGets() != 2 {
		t.Fatalf("a third pass fetched %d (content requests %d)", n, fake.ContentGets())
	}
}

// TestMedia_AgentPictureFetchedByLINE: an agent's picture goes as an image
// message whose address LINE fetches from the engine's signed public link.
func TestMedia_AgentPictureFetchedByLINE(t *testing.T) {
	env, fake := setup(t)
	body, _, _ := fake.TextEvent(userID, "the label please")
	post(t, env, fake, body)
	in := env.Messages()[0]
	label := hubtest.JPEG(31)
	out := env.ReplyWith(in, "Here", env.Upload(in, "label.jpg", "image/jpeg", label))
	env.RunOutbox()
	if m := env.Message(out.ID); m.Status != backend.DeliverySent {
		t.Fatalf("reply %s %q", m.Status, m.Error)
	}
	got := fake.Fetched()
	if len(got) == 0 || got[0].Status != http.StatusOK || !bytes.Equal(got[0].Data, label) || !strings.HasPrefix(got[0].URL, env.Server.URL+"/shared/") {
		t.Fatalf("LINE fetched %+v", got)
	}
}
