package custom_test

import (
	"encoding/json"
	"flag"
	"net/http"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels"
	"switchboard/channels/custom"
	"switchboard/channels/custom/customtest"
	"switchboard/channels/internal/hubtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

const secret = "0123456789abcdef-secret"

func setup(t *testing.T) (*hubtest.Env, *customtest.Server) {
	fake := customtest.NewServer(secret)
	t.Cleanup(fake.Close)
	env := hubtest.New(t, custom.ID, "shop", map[string]any{"secret": secret, "url": "https://example.invalid/replies"}, fake.URL+"/replies")
	fake.Now = env.Clock.Now
	return env, fake
}

func message(id, text string) map[string]any {
	return map[string]any{"type": "message", "id": id, "from": map[string]string{"id": "user-42", "name": "Ana"}, "text": text}
}

func post(t *testing.T, env *hubtest.Env, fake *customtest.Server, ev any) int {
	t.Helper()
	st, _ := hubtest.Do(t, fake.WebhookRequest(env.HookURL(custom.ID, "shop"), ev))
	return st
}

func TestInbound_OnceOnTheRightContact(t *testing.T) {
	env, fake := setup(t)
	if st := post(t, env, fake, message("m-1", "hi")); st != 200 {
		t.Fatalf("status %d", st)
	}
	post(t, env, fake, message("m-1", "hi"))
	msgs := env.Messages()
	if len(msgs) != 1 || msgs[0].ExternalID != "m-1" {
		t.Fatalf("messages %+v", msgs)
	}
	if c := env.Contact(msgs[0].ContactID); c.Name != "Ana" || c.Identities[0].ExternalID != "user-42" {
		t.Fatalf("contact %+v", c)
	}
}

func TestInbound_BadSignatureOrOldTimestampStoresNothing(t *testing.T) {
	env, fake := setup(t)
	req := fake.WebhookRequest(env.HookURL(custom.ID, "shop"), message("m-1", "x"))
	req.Header.Del(custom.HeaderSignature)
	if st, _ := hubtest.Do(t, req); st != http.StatusUnauthorized {
		t.Fatalf("missing: %d", st)
	}
	req = fake.WebhookRequest(env.HookURL(custom.ID, "shop"), message("m-1", "x"))
	req.Header.Set(custom.HeaderSignature, "v1=00")
	if st, _ := hubtest.Do(t, req); st != http.StatusForbidden {
		t.Fatalf("forged: %d", st)
	}
	fake.Now = func() time.Time { return hubtest.Start.Add(-10 * time.Minute) }
	if st := post(t, env, fake, message("m-1", "x")); st != http.StatusForbidden {
		t.Fatalf("replayed: %d", st)
	}
	if len(env.Messages()) != 0 {
		t.Fatal("stored")
	}
}

func TestReply_SignedJSONAndStatuses(t *testing.T) {
	env, fake := setup(t)
	post(t, env, fake, message("m-1", "hi"))
	out := env.Reply(env.Messages()[0], "hello")
	fake.Fail429(1, "4")
	env.RunOutbox()
	env.Clock.Advance(3 * time.Second)
	env.RunOutbox()
	if n := len(fake.Requests()); n != 1 {
		t.Fatalf("%d calls before Retry-After", n)
	}
	env.Clock.Advance(time.Second)
	env.RunOutbox()
	reqs := fake.Requests()
	if len(reqs) != 2 || !reqs[1].Valid || reqs[1].Method != "POST" || reqs[1].Path != "/replies" ||
		reqs[1].Header.Get("Idempotency-Key") == "" || reqs[1].Header.Get("Idempotency-Key") != reqs[0].Header.Get("Idempotency-Key") {
		t.Fatalf("calls %+v", reqs)
	}
	var got custom.Outgoing
	json.Unmarshal(reqs[1].Body, &got)
	if got.ID != out.ID || got.To.ID != "user-42" || got.Thread != "user-42" || got.Text != "hello" || got.InReplyTo != "m-1" {
		t.Fatalf("body %s", reqs[1].Body)
	}
	m := env.Message(out.ID)
	if m.Status != backend.DeliverySent || m.ExternalID != "ext-1" {
		t.Fatalf("%+v", m)
	}
	post(t, env, fake, map[string]any{"type": "status", "id": "ext-1", "status": "read"})
	if m = env.Message(out.ID); m.Status != backend.DeliveryRead {
		t.Fatalf("status %s", m.Status)
	}
}

func TestGolden(t *testing.T) {
	hubtest.Golden(t, *update, func(_ string, body []byte) (*channels.Webhook, error) { return custom.Parse(body) })
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"type":"message","id":"1","from":{"id":"u"},"text":"x"}`))
	f.Add([]byte(`{"type":"status","id":"1","status":"read"}`))
	f.Add([]byte(`{"type":"message","id":"1","from":{"id":"u"},"bogus":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		wh, err := custom.Parse(body)
		if err == nil && len(wh.Messages)+len(wh.Statuses) != 1 {
			t.Fatal("one event must give one item")
		}
	})
}

func FuzzSignature(f *testing.F) {
	f.Add(secret, int64(1767225600), []byte(`{"type":"message"}`), "v1=")
	f.Fuzz(func(t *testing.T, s string, ts int64, body []byte, sig string) {
		now := time.Unix(ts, 0)
		custom.ValidSignature(s, body, "1", sig, now)
		if s != "" && ts > -1e12 && ts < 1e12 && !custom.ValidSignature(s, body, formatInt(ts), customtest.Sign(s, ts, body), now) {
			t.Fatal("fake's signature rejected")
		}
	})
}

func formatInt(v int64) string { b, _ := json.Marshal(v); return string(b) }
