package whatsapp_test

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels"
	"switchboard/channels/internal/hubtest"
	"switchboard/channels/whatsapp"
	"switchboard/channels/whatsapp/whatsapptest"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	appSecret = "app-secret"
	token     = "EAAG-token"
	phoneID   = "200000000000001"
	waID      = "15557654321"
)

func setup(t *testing.T) (*hubtest.Env, *whatsapptest.Server) {
	t.Helper()
	fake := whatsapptest.NewServer(appSecret, token, phoneID)
	t.Cleanup(fake.Close)
	env := hubtest.New(t, whatsapp.ID, "main", map[string]any{
		"appSecret": appSecret, "accessToken": token, "phoneNumberId": phoneID, "verifyToken": "verify-me",
	}, fake.URL)
	fake.Now = env.Clock.Now
	return env, fake
}

func (s *suite) post(body []byte) int {
	s.t.Helper()
	status, _ := hubtest.Do(s.t, s.fake.WebhookRequest(s.env.HookURL(whatsapp.ID, "main"), body))
	return status
}

type suite struct {
	t    *testing.T
	env  *hubtest.Env
	fake *whatsapptest.Server
}

func newSuite(t *testing.T) *suite {
	env, fake := setup(t)
	return &suite{t, env, fake}
}

func TestHandshake(t *testing.T) {
	s := newSuite(t)
	u := s.env.HookURL(whatsapp.ID, "main")
	req, _ := http.NewRequest(http.MethodGet, u+"?hub.mode=subscribe&hub.challenge=8675309&hub.verify_token=verify-me", nil)
	if status, body := hubtest.Do(t, req); status != 200 || body != "8675309" {
		t.Fatalf("handshake: %d %q", status, body)
	}
	req, _ = http.NewRequest(http.MethodGet, u+"?hub.mode=subscribe&hub.challenge=8675309&hub.verify_token=nope", nil)
	if status, _ := hubtest.Do(t, req); status != http.StatusForbidden {
		t.Fatalf("bad token: %d", status)
	}
}

func TestInbound_OneMessageOnTheRightContact(t *testing.T) {
	s := newSuite(t)
	body, wamid := s.fake.TextMessage(waID, "Ana", "hello")
	if st := s.post(body); st != 200 {
		t.Fatalf("status %d", st)
	}
	if st := s.post(body); st != 200 { // Meta redelivers
		t.Fatalf("redelivery status %d", st)
	}
	msgs := s.env.Messages()
	if len(msgs) != 1 || msgs[0].ExternalID != wamid || msgs[0].Text != "hello" {
		t.Fatalf("messages = %+v", msgs)
	}
	c := s.env.Contact(msgs[0].ContactID)
	if c.Phone != "+"+waID || c.Name != "Ana" {
		t.Fatalf("contact = %+v", c)
	}
	if !msgs[0].PlatformAt.Equal(hubtest.Start) {
		t.Fatalf("platform time %v", msgs[0].PlatformAt)
	}
}

func TestInbound_BadSignatureStoresNothing(t *testing.T) {
	s := newSuite(t)
	body, _ := s.fake.TextMessage(waID, "Ana", "forged")
	req := s.fake.WebhookRequest(s.env.HookURL(whatsapp.ID, "main"), body)
	req.Header.Del("X-Hub-Signature-256")
	if st, _ := hubtest.Do(t, req); st != http.StatusUnauthorized {
		t.Fatalf("missing: %d", st)
	}
	req = s.fake.WebhookRequest(s.env.HookURL(whatsapp.ID, "main"), body)
	req.Header.Set("X-Hub-Signature-256", whatsapptest.Sign("wrong", body))
	if st, _ := hubtest.Do(t, req); st != http.StatusForbidden {
		t.Fatalf("forged: %d", st)
	}
	if n := len(s.env.Messages()); n != 0 {
		t.Fatalf("%d stored", n)
	}
}

func TestReply_SendAPIAndStatuses(t *testing.T) {
	s := newSuite(t)
	body, wamid := s.fake.TextMessage(waID, "Ana", "hi")
	s.post(body)
	out := s.env.Reply(s.env.Messages()[0], "How can I help?")
	s.env.Clock.Advance(time.Hour)
	s.env.RunOutbox()
	reqs := s.fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d calls", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/v25.0/"+phoneID+"/messages" || r.Header.Get("Authorization") != "Bearer "+token ||
		r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("call %s %s %v", r.Method, r.Path, r.Header)
	}
	var got map[string]any
	json.Unmarshal(r.Body, &got)
	want := map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": waID, "type": "text",
		"text": map[string]any{"body": "How can I help?", "preview_url": false}, "context": map[string]any{"message_id": wamid}}
	if g, w := mustJSON(got), mustJSON(want); g != w {
		t.Fatalf("body %s\nwant %s", g, w)
	}
	m := s.env.Message(out.ID)
	if m.Status != backend.DeliverySent || !strings.HasPrefix(m.ExternalID, "wamid.") {
		t.Fatalf("after send %+v", m)
	}
	for _, st := range []string{"delivered", "sent", "read"} {
		if code := s.post(s.fake.StatusUpdate(m.ExternalID, st, waID)); code != 200 {
			t.Fatalf("status %s: %d", st, code)
		}
	}
	if m = s.env.Message(out.ID); m.Status != backend.DeliveryRead {
		t.Fatalf("status %s", m.Status)
	}
}

func TestReply_OutsideWindowIsAClearError(t *testing.T) {
	s := newSuite(t)
	body, _ := s.fake.TextMessage(waID, "Ana", "hi")
	s.post(body)
	out := s.env.Reply(s.env.Messages()[0], "Sorry for the wait")
	s.env.Clock.Advance(25 * time.Hour)
	s.env.RunOutbox()
	m := s.env.Message(out.ID)
	if len(s.fake.Requests()) != 0 || m.Status != backend.DeliveryFailed || !strings.Contains(m.Error, "24-hour") {
		t.Fatalf("message %+v after %d calls", m, len(s.fake.Requests()))
	}
}

func TestReply_429IsRetriedAfterTheDelayAsked(t *testing.T) {
	s := newSuite(t)
	body, _ := s.fake.TextMessage(waID, "Ana", "hi")
	s.post(body)
	out := s.env.Reply(s.env.Messages()[0], "x")
	s.fake.Fail429(1, "3")
	s.env.RunOutbox()
	s.env.Clock.Advance(2 * time.Second)
	s.env.RunOutbox()
	if n := len(s.fake.Requests()); n != 1 {
		t.Fatalf("%d calls before Retry-After", n)
	}
	s.env.Clock.Advance(time.Second)
	s.env.RunOutbox()
	if n := len(s.fake.Requests()); n != 2 || s.env.Message(out.ID).Status != backend.DeliverySent {
		t.Fatalf("%d calls, message %+v", n, s.env.Message(out.ID))
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestGolden(t *testing.T) {
	hubtest.Golden(t, *update, func(_ string, body []byte) (*channels.Webhook, error) {
		return whatsapp.Parse(body)
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"from":"1","id":"w","timestamp":"1","type":"text","text":{"body":"x"}}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"w","status":"failed","errors":[{"code":1}]}]}}]}]}`))
	f.Add([]byte(`{"object":"page"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		wh, err := whatsapp.Parse(body)
		if err == nil {
			for _, m := range wh.Messages {
				if m.ExternalID == "" || m.ExternalUserID == "" {
					t.Fatal("message without ids")
				}
			}
		}
	})
}

func TestWindow(t *testing.T) {
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	if whatsapp.InWindow(nil, now) {
		t.Fatal("no inbound message, yet in window")
	}
	if !whatsapp.InWindow(&backend.InboundRef{PlatformAt: now.Add(-23 * time.Hour)}, now) {
		t.Fatal("23h should be inside")
	}
	if whatsapp.InWindow(&backend.InboundRef{PlatformAt: now.Add(-24 * time.Hour), CreatedAt: now}, now) {
		t.Fatal("a late redelivery must not reopen the window")
	}
	_ = context.Background
}
