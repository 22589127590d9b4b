package messenger_test

import (
	"encoding/json"
	"flag"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels"
	"switchboard/channels/internal/hubtest"
	"switchboard/channels/messenger"
	"switchboard/channels/messenger/messengertest"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	appSecret = "app-secret"
	token     = "page-token"
	account   = "PAGE1"
	user      = "PSID1"
)

type suite struct {
	t         *testing.T
	connector string
	env       *hubtest.Env
	fake      *messengertest.Server
}

// each runs fn for Messenger and for Instagram.
func each(t *testing.T, fn func(s *suite)) {
	for _, c := range []struct{ id, object string }{{messenger.Messenger, "page"}, {messenger.Instagram, "instagram"}} {
		t.Run(c.id, func(t *testing.T) {
			fake := messengertest.NewServer(c.object, appSecret, token, account)
			t.Cleanup(fake.Close)
			env := hubtest.New(t, c.id, "main", map[string]any{
				"appSecret": appSecret, "accessToken": token, "accountId": account, "verifyToken": "v",
			}, fake.URL)
			fake.Now = env.Clock.Now
			fn(&suite{t, c.id, env, fake})
		})
	}
}

func (s *suite) post(body []byte) int {
	s.t.Helper()
	st, _ := hubtest.Do(s.t, s.fake.WebhookRequest(s.env.HookURL(s.connector, "main"), body))
	return st
}

func TestInbound_OnceOnTheRightContact(t *testing.T) {
	each(t, func(s *suite) {
		body, mid := s.fake.TextMessage(user, "hello")
		if st := s.post(body); st != 200 {
			t.Fatalf("status %d", st)
		}
		s.post(body)
		msgs := s.env.Messages()
		if len(msgs) != 1 || msgs[0].ExternalID != mid || msgs[0].Text != "hello" {
			t.Fatalf("messages %+v", msgs)
		}
		c := s.env.Contact(msgs[0].ContactID)
		if len(c.Identities) != 1 || c.Identities[0].Channel != s.connector || c.Identities[0].ExternalID != user {
			t.Fatalf("contact %+v", c)
		}
	})
}

func TestInbound_BadSignatureStoresNothing(t *testing.T) {
	each(t, func(s *suite) {
		body, _ := s.fake.TextMessage(user, "x")
		req := s.fake.WebhookRequest(s.env.HookURL(s.connector, "main"), body)
		req.Header.Del("X-Hub-Signature-256")
		if st, _ := hubtest.Do(t, req); st != http.StatusUnauthorized {
			t.Fatalf("missing: %d", st)
		}
		req = s.fake.WebhookRequest(s.env.HookURL(s.connector, "main"), body)
		req.Header.Set("X-Hub-Signature-256", messengertest.Sign("nope", body))
		if st, _ := hubtest.Do(t, req); st != http.StatusForbidden {
			t.Fatalf("forged: %d", st)
		}
		if len(s.env.Messages()) != 0 {
			t.Fatal("stored")
		}
	})
}

func TestReply_SendAPIAndReceipts(t *testing.T) {
	each(t, func(s *suite) {
		body, _ := s.fake.TextMessage(user, "hi")
		s.post(body)
		out := s.env.Reply(s.env.Messages()[0], "hello, world")
		s.env.RunOutbox()
		reqs := s.fake.Requests()
		if len(reqs) != 1 {
			t.Fatalf("%d calls", len(reqs))
		}
		r := reqs[0]
		if s.connector == messenger.Messenger {
			if r.Path != "/v25.0/me/messages" || r.Query != "access_token="+token {
				t.Fatalf("call %s?%s", r.Path, r.Query)
			}
		} else if r.Path != "/v25.0/"+account+"/messages" || r.Header.Get("Authorization") != "Bearer "+token || r.Query != "" {
			t.Fatalf("call %s?%s %v", r.Path, r.Query, r.Header)
		}
		if r.Method != "POST" || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s %v", r.Method, r.Header)
		}
		want := `{"message":{"text":"hello, world"},"messaging_type":"RESPONSE","recipient":{"id":"PSID1"}}`
		var got any
		json.Unmarshal(r.Body, &got)
		if b, _ := json.Marshal(got); string(b) != want {
			t.Fatalf("body %s\nwant %s", b, want)
		}
		m := s.env.Message(out.ID)
		if m.Status != backend.DeliverySent || !strings.HasPrefix(m.ExternalID, "m_") {
			t.Fatalf("after send %+v", m)
		}
		s.env.Clock.Advance(time.Second)
		s.post(s.fake.Delivery(user, m.ExternalID))
		if m = s.env.Message(out.ID); m.Status != backend.DeliveryDelivered {
			t.Fatalf("after delivery %s", m.Status)
		}
		s.post(s.fake.Read(user))
		if m = s.env.Message(out.ID); m.Status != backend.DeliveryRead {
			t.Fatalf("after read %s", m.Status)
		}
	})
}

func TestReply_HumanAgentTagAfter24h(t *testing.T) {
	each(t, func(s *suite) {
		body, _ := s.fake.TextMessage(user, "hi")
		s.post(body)
		s.env.Reply(s.env.Messages()[0], "sorry for the delay")
		s.env.Clock.Advance(48 * time.Hour)
		s.env.RunOutbox()
		var got map[string]any
		json.Unmarshal(s.fake.Requests()[0].Body, &got)
		if got["messaging_type"] != "MESSAGE_TAG" || got["tag"] != "HUMAN_AGENT" {
			t.Fatalf("body %v", got)
		}
	})
}

func TestReply_429IsRetriedAfterTheDelayAsked(t *testing.T) {
	each(t, func(s *suite) {
		body, _ := s.fake.TextMessage(user, "hi")
		s.post(body)
		out := s.env.Reply(s.env.Messages()[0], "x")
		s.fake.Fail429(1, "5")
		s.env.RunOutbox()
		s.env.Clock.Advance(4 * time.Second)
		s.env.RunOutbox()
		if n := len(s.fake.Requests()); n != 1 {
			t.Fatalf("%d calls before Retry-After", n)
		}
		s.env.Clock.Advance(time.Second)
		s.env.RunOutbox()
		if n := len(s.fake.Requests()); n != 2 || s.env.Message(out.ID).Status != backend.DeliverySent {
			t.Fatalf("%d calls; %+v", n, s.env.Message(out.ID))
		}
	})
}

func TestGolden(t *testing.T) {
	hubtest.Golden(t, *update, func(name string, body []byte) (*channels.Webhook, error) {
		object := "page"
		if strings.HasPrefix(name, "instagram") {
			object = "instagram"
		}
		return messenger.Parse(body, object)
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"object":"page","entry":[{"id":"PAGE1","time":1700000000000,"messaging":[{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},"timestamp":1700000000000,"message":{"mid":"m_1","text":"hi"}}]}]}`), "page")
	f.Add([]byte(`{"object":"instagram","entry":[{"id":"IG","messaging":[{"sender":{"id":"U"},"read":{"mid":"m"}}]}]}`), "instagram")
	f.Add([]byte(`{"object":"page","entry":[{"messaging":[{"delivery":{"watermark":1}}]}]}`), "page")
	f.Fuzz(func(t *testing.T, body []byte, object string) {
		wh, err := messenger.Parse(body, object)
		if err == nil {
			for _, m := range wh.Messages {
				if m.ExternalID == "" || m.ExternalUserID == "" {
					t.Fatal("message without ids")
				}
			}
		}
	})
}
