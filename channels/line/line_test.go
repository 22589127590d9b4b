package line_test

import (
	"encoding/json"
	"flag"
	"net/http"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels"
	"switchboard/channels/internal/hubtest"
	"switchboard/channels/line"
	"switchboard/channels/line/linetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	secret = "channel-secret"
	token  = "channel-token"
	userID = "U1111aaaa2222bbbb3333cccc4444dddd"
)

func setup(t *testing.T) (*hubtest.Env, *linetest.Server) {
	fake := linetest.NewServer(secret, token)
	t.Cleanup(fake.Close)
	env := hubtest.New(t, line.ID, "main", map[string]any{"channelSecret": secret, "channelAccessToken": token}, fake.URL)
	fake.Now = env.Clock.Now
	return env, fake
}

func post(t *testing.T, env *hubtest.Env, fake *linetest.Server, body []byte) int {
	t.Helper()
	st, _ := hubtest.Do(t, fake.WebhookRequest(env.HookURL(line.ID, "main"), body))
	return st
}

func TestInbound_OnceOnTheRightContact(t *testing.T) {
	env, fake := setup(t)
	body, id, _ := fake.TextEvent(userID, "Hello")
	if st := post(t, env, fake, body); st != 200 {
		t.Fatalf("status %d", st)
	}
	post(t, env, fake, body)
	msgs := env.Messages()
	if len(msgs) != 1 || msgs[0].ExternalID != id || msgs[0].Text != "Hello" {
		t.Fatalf("messages %+v", msgs)
	}
	if c := env.Contact(msgs[0].ContactID); c.Identities[0].ExternalID != userID {
		t.Fatalf("contact %+v", c)
	}
}

func TestInbound_ConsoleVerifyIsAccepted(t *testing.T) {
	env, fake := setup(t)
	if st := post(t, env, fake, []byte(`{"destination":"U0123456789abcdef0123456789abcdef","events":[]}`)); st != 200 {
		t.Fatalf("status %d", st)
	}
}

func TestInbound_BadSignatureStoresNothing(t *testing.T) {
	env, fake := setup(t)
	body, _, _ := fake.TextEvent(userID, "x")
	req := fake.WebhookRequest(env.HookURL(line.ID, "main"), body)
	req.Header.Del("X-Line-Signature")
	if st, _ := hubtest.Do(t, req); st != http.StatusUnauthorized {
		t.Fatalf("missing: %d", st)
	}
	req = fake.WebhookRequest(env.HookURL(line.ID, "main"), body)
	req.Header.Set("X-Line-Signature", linetest.Sign("other", body))
	if st, _ := hubtest.Do(t, req); st != http.StatusForbidden {
		t.Fatalf("forged: %d", st)
	}
	if len(env.Messages()) != 0 {
		t.Fatal("stored")
	}
}

func TestReply_UsesTheReplyTokenThenPush(t *testing.T) {
	env, fake := setup(t)
	body, _, replyToken := fake.TextEvent(userID, "hi")
	post(t, env, fake, body)
	first := env.Reply(env.Messages()[0], "Hi!")
	env.Clock.Advance(5 * time.Second)
	env.RunOutbox()
	second := env.Reply(env.Messages()[0], "Anything else?")
	env.RunOutbox()
	reqs := fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d calls", len(reqs))
	}
	var got map[string]any
	json.Unmarshal(reqs[0].Body, &got)
	if reqs[0].Path != "/v2/bot/message/reply" || got["replyToken"] != replyToken || reqs[0].Header.Get("Authorization") != "Bearer "+token {
		t.Fatalf("first call %s %s", reqs[0].Path, reqs[0].Body)
	}
	json.Unmarshal(reqs[1].Body, &got)
	if reqs[1].Path != "/v2/bot/message/push" || got["to"] != userID || reqs[1].Header.Get("X-Line-Retry-Key") == "" {
		t.Fatalf("second call %s %s %v", reqs[1].Path, reqs[1].Body, reqs[1].Header)
	}
	want := `[{"text":"Anything else?","type":"text"}]`
	if b, _ := json.Marshal(got["messages"]); string(b) != want {
		t.Fatalf("messages %s", b)
	}
	for _, id := range []string{first.ID, second.ID} {
		if m := env.Message(id); m.Status != backend.DeliverySent || m.ExternalID == "" {
			t.Fatalf("message %+v", m)
		}
	}
}

func TestReply_ExpiredTokenFallsBackToPush(t *testing.T) {
	env, fake := setup(t)
	fake.TokenTTL = time.Second // the platform expires it sooner than we assume
	body, _, _ := fake.TextEvent(userID, "hi")
	post(t, env, fake, body)
	out := env.Reply(env.Messages()[0], "late")
	env.Clock.Advance(10 * time.Second)
	env.RunOutbox()
	reqs := fake.Requests()
	if len(reqs) != 2 || reqs[0].Path != "/v2/bot/message/reply" || reqs[1].Path != "/v2/bot/message/push" {
		t.Fatalf("calls %+v", reqs)
	}
	if m := env.Message(out.ID); m.Status != backend.DeliverySent {
		t.Fatalf("%+v", m)
	}
}

func TestReply_429IsRetriedAfterTheDelayAsked(t *testing.T) {
	env, fake := setup(t)
	body, _, _ := fake.TextEvent(userID, "hi")
	post(t, env, fake, body)
	env.Clock.Advance(time.Minute) // push, not reply
	out := env.Reply(env.Messages()[0], "x")
	fake.Fail429(1, "2")
	env.RunOutbox()
	env.Clock.Advance(time.Second)
	env.RunOutbox()
	if n := len(fake.Requests()); n != 1 {
		t.Fatalf("%d calls before Retry-After", n)
	}
	env.Clock.Advance(time.Second)
	env.RunOutbox()
	reqs := fake.Requests()
	if len(reqs) != 2 || reqs[0].Header.Get("X-Line-Retry-Key") != reqs[1].Header.Get("X-Line-Retry-Key") {
		t.Fatalf("calls %d; retry keys must match", len(reqs))
	}
	if m := env.Message(out.ID); m.Status != backend.DeliverySent {
		t.Fatalf("%+v", m)
	}
}

func TestGolden(t *testing.T) {
	hubtest.Golden(t, *update, func(_ string, body []byte) (*channels.Webhook, error) {
		return line.Parse(body)
	})
}

// The LINE vector of CHANNELS.md §11.
const (
	vectorBody = `{"destination":"U0123456789abcdef0123456789abcdef","events":[]}`
	vectorSig  = "ezxxOQ39M2U+Dzkj4SllRIn//eHFoa+a4Hn2YMnYK88="
)

func TestSignature_Vector(t *testing.T) {
	if got := line.Sign(secret, []byte(vectorBody)); got != vectorSig {
		t.Fatalf("got %s", got)
	}
	if !line.ValidSignature(secret, []byte(vectorBody), vectorSig) || line.ValidSignature(secret, []byte(vectorBody+" "), vectorSig) {
		t.Fatal("verification wrong")
	}
}

func FuzzSignature(f *testing.F) {
	f.Add(secret, []byte(vectorBody), vectorSig)
	f.Add("", []byte{}, "")
	f.Fuzz(func(t *testing.T, s string, body []byte, sig string) {
		line.ValidSignature(s, body, sig)
		if s != "" && !line.ValidSignature(s, body, linetest.Sign(s, body)) {
			t.Fatal("fake's signature rejected")
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(vectorBody))
	f.Add([]byte(`{"events":[{"type":"message","timestamp":1,"source":{"type":"group","groupId":"C1"},"message":{"id":"1","type":"image"}}]}`))
	f.Add([]byte(`{"events":[{"type":"postback","source":{"userId":"U"},"webhookEventId":"01","postback":{"data":"a=1"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		wh, err := line.Parse(body)
		if err == nil {
			for _, m := range wh.Messages {
				if m.ExternalID == "" || m.ExternalUserID == "" {
					t.Fatal("message without ids")
				}
			}
		}
	})
}
