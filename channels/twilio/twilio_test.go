package twilio_test

import (
	"context"
	"flag"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels"
	"switchboard/channels/internal/hubtest"
	"switchboard/channels/twilio"
	"switchboard/channels/twilio/twiliotest"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	accountSID = "AC00000000000000000000000000000001"
	authToken  = "auth-token-1"
	business   = "+15550001234"
	customer   = "+15557654321"
)

func setup(t *testing.T, connector string) (*hubtest.Env, *twiliotest.Server) {
	t.Helper()
	fake := twiliotest.NewServer(accountSID, authToken)
	t.Cleanup(fake.Close)
	env := hubtest.New(t, connector, "main", map[string]any{"accountSid": accountSID, "authToken": authToken, "from": business}, fake.URL)
	return env, fake
}

func post(t *testing.T, env *hubtest.Env, fake *twiliotest.Server, connector string, p url.Values) (int, string) {
	t.Helper()
	return hubtest.Do(t, fake.WebhookRequest(env.HookURL(connector, "main"), p))
}

func TestInbound_SMSBecomesOneMessage(t *testing.T) {
	env, fake := setup(t, twilio.SMS)
	p := fake.InboundParams(customer, business, "hello there")
	status, body := post(t, env, fake, twilio.SMS, p)
	if status != http.StatusOK || !strings.Contains(body, "<Response>") {
		t.Fatalf("status %d body %q", status, body)
	}
	msgs := env.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Text != "hello there" || m.ExternalID != p.Get("MessageSid") || m.Direction != backend.DirectionIn {
		t.Fatalf("message = %+v", m)
	}
	c := env.Contact(m.ContactID)
	if c.Phone != customer || len(c.Identities) != 1 || c.Identities[0].ExternalID != customer {
		t.Fatalf("contact = %+v", c)
	}
	if err := env.Hub.DispatchInbound(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-env.Inbound:
		if got.ID != m.ID {
			t.Fatalf("OnInbound got %s, want %s", got.ID, m.ID)
		}
	default:
		t.Fatal("OnInbound was not called")
	}
}

func TestInbound_BadSignatureStoresNothing(t *testing.T) {
	env, fake := setup(t, twilio.SMS)
	p := fake.InboundParams(customer, business, "forged")
	for _, tc := range []struct {
		name   string
		mutate func(r *http.Request)
		want   int
	}{
		{"missing", func(r *http.Request) { r.Header.Del("X-Twilio-Signature") }, http.StatusUnauthorized},
		{"wrong token", func(r *http.Request) {
			r.Header.Set("X-Twilio-Signature", twiliotest.Sign("other-token", env.HookURL(twilio.SMS, "main"), p))
		}, http.StatusForbidden},
		{"other url", func(r *http.Request) {
			r.Header.Set("X-Twilio-Signature", twiliotest.Sign(authToken, env.HookURL(twilio.SMS, "other"), p))
		}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := fake.WebhookRequest(env.HookURL(twilio.SMS, "main"), p)
			tc.mutate(req)
			if status, _ := hubtest.Do(t, req); status != tc.want {
				t.Fatalf("status %d, want %d", status, tc.want)
			}
		})
	}
	// A tampered body with the original signature.
	req := fake.WebhookRequest(env.HookURL(twilio.SMS, "main"), p)
	q := url.Values{}
	for k, v := range p {
		q[k] = v
	}
	q.Set("Body", "tampered")
	req2, _ := http.NewRequest(http.MethodPost, req.URL.String(), strings.NewReader(q.Encode()))
	req2.Header = req.Header
	if status, _ := hubtest.Do(t, req2); status != http.StatusForbidden {
		t.Fatalf("tampered body: status %d", status)
	}
	if n := len(env.Messages()); n != 0 {
		t.Fatalf("%d messages stored after forged webhooks", n)
	}
}

func TestInbound_RedeliveryStoredOnce(t *testing.T) {
	env, fake := setup(t, twilio.SMS)
	p := fake.InboundParams(customer, business, "once")
	for i := 0; i < 3; i++ {
		if status, _ := post(t, env, fake, twilio.SMS, p); status != http.StatusOK {
			t.Fatalf("delivery %d: status %d", i, status)
		}
	}
	if n := len(env.Messages()); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
}

func TestInbound_SMSAndWhatsAppAreOneContact(t *testing.T) {
	env, fake := setup(t, twilio.SMS)
	env.Add(twilio.WhatsApp, "main", map[string]any{"accountSid": accountSID, "authToken": authToken, "from": "+14155238886"}, fake.URL)
	post(t, env, fake, twilio.SMS, fake.InboundParams(customer, business, "by sms"))
	post(t, env, fake, twilio.WhatsApp, fake.InboundParams("whatsapp:"+customer, "whatsapp:+14155238886", "by whatsapp"))
	msgs := env.Messages()
	if len(msgs) != 2 || msgs[0].ContactID != msgs[1].ContactID || msgs[0].ConversationID == msgs[1].ConversationID {
		t.Fatalf("messages = %+v %+v", msgs[0], msgs[1])
	}
}

func TestReply_ReachesTwilioAndStatusesMoveForward(t *testing.T) {
	env, fake := setup(t, twilio.SMS)
	post(t, env, fake, twilio.SMS, fake.InboundParams(customer, business, "hi"))
	out := env.Reply(env.Messages()[0], "Hello from support")
	if n := env.RunOutbox(); n != 1 {
		t.Fatalf("outbox handled %d jobs", n)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d API calls", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/2010-04-01/Accounts/"+accountSID+"/Messages.json" {
		t.Fatalf("call %s %s", r.Method, r.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Fatalf("content type %q", ct)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Basic ") {
		t.Fatal("no basic auth")
	}
	want := url.Values{"To": {customer}, "From": {business}, "Body": {"Hello from support"},
		"StatusCallback": {env.HookURL(twilio.SMS, "main")}}
	if r.Form.Encode() != want.Encode() {
		t.Fatalf("form %s, want %s", r.Form.Encode(), want.Encode())
	}
	m := env.Message(out.ID)
	if m.ExternalID == "" || m.Status != backend.DeliveryQueued {
		t.Fatalf("after send: %+v", m)
	}
	if n := env.RunOutbox(); n != 0 || len(fake.Requests()) != 1 {
		t.Fatal("a sent message was sent again")
	}
	for _, st := range []string{"sent", "delivered", "sent", "read"} {
		if code, err := fake.StatusCallback(m.ExternalID, st, ""); err != nil || code != http.StatusOK {
			t.Fatalf("status callback %s: %d %v", st, code, err)
		}
	}
	if m = env.Message(out.ID); m.Status != backend.DeliveryRead {
		t.Fatalf("status %s, want read", m.Status)
	}
}

func TestReply_FailedStatusKeepsReason(t *testing.T) {
	env, fake := setup(t, twilio.SMS)
	post(t, env, fake, twilio.SMS, fake.InboundParams(customer, business, "hi"))
	out := env.Reply(env.Messages()[0], "x")
	env.RunOutbox()
	m := env.Message(out.ID)
	fake.StatusCallback(m.ExternalID, "undelivered", "30003")
	if m = env.Message(out.ID); m.Status != backend.DeliveryFailed || !strings.Contains(m.Error, "30003") {
		t.Fatalf("message = %+v", m)
	}
}

func TestReply_WhatsAppAddressesArePrefixed(t *testing.T) {
	env, fake := setup(t, twilio.WhatsApp)
	post(t, env, fake, twilio.WhatsApp, fake.InboundParams("whatsapp:"+customer, "whatsapp:+14155238886", "hola"))
	env.Reply(env.Messages()[0], "¡Hola!")
	env.RunOutbox()
	f := fake.Requests()[0].Form
	if f.Get("To") != "whatsapp:"+customer || f.Get("From") != "whatsapp:+14155238886" {
		t.Fatalf("form = %v", f)
	}
}

func TestReply_429IsRetriedAfterTheDelayAsked(t *testing.T) {
	env, fake := setup(t, twilio.SMS)
	post(t, env, fake, twilio.SMS, fake.InboundParams(customer, business, "hi"))
	out := env.Reply(env.Messages()[0], "later")
	fake.Fail429(1, "7")
	env.RunOutbox()
	if n := len(fake.Requests()); n != 1 {
		t.Fatalf("%d calls", n)
	}
	if at, ok, _ := env.DB.NextOutboxDue(context.Background()); !ok || !at.Equal(hubtest.Start.Add(7*time.Second)) {
		t.Fatalf("next attempt at %v, want start+7s", at)
	}
	env.Clock.Advance(6 * time.Second)
	env.RunOutbox()
	if n := len(fake.Requests()); n != 1 {
		t.Fatalf("retried before Retry-After: %d calls", n)
	}
	env.Clock.Advance(time.Second)
	env.RunOutbox()
	if n := len(fake.Requests()); n != 2 {
		t.Fatalf("%d calls after Retry-After, want 2", n)
	}
	if m := env.Message(out.ID); m.ExternalID == "" {
		t.Fatalf("not sent after retry: %+v", m)
	}
}

func TestReply_PermanentErrorFails(t *testing.T) {
	env, fake := setup(t, twilio.SMS)
	post(t, env, fake, twilio.SMS, fake.InboundParams(customer, business, "hi"))
	env.Add(twilio.SMS, "main", map[string]any{"accountSid": accountSID, "authToken": "wrong", "from": business}, fake.URL)
	out := env.Reply(env.Messages()[0], "x")
	env.RunOutbox()
	if m := env.Message(out.ID); m.Status != backend.DeliveryFailed || !strings.Contains(m.Error, "20003") {
		t.Fatalf("message = %+v", m)
	}
}

func TestConfig_StrictAndRedacted(t *testing.T) {
	_, err := twilio.New(channels.Params{Connector: twilio.SMS, Config: []byte(`{"accountSid":"AC1","authToken":"t","from":"+1","bogus":1}`)})
	if backend.ErrorCode(err) != backend.EInvalid || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown field: %v", err)
	}
	env, _ := setup(t, twilio.SMS)
	cis, err := env.Hub.Instances(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cis[0].Config), authToken) || !strings.Contains(string(cis[0].Config), channels.Redacted) {
		t.Fatalf("config shown as %s", cis[0].Config)
	}
}

// TestSignature_TwilioPublishedExample checks the example from Twilio's
// webhook security documentation.
func TestSignature_TwilioPublishedExample(t *testing.T) {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675310"}, "Digits": {"1234"},
		"From": {"+14158675310"}, "To": {"+18005551212"},
	}
	const u, want = "https://mycompany.com/myapp.php?foo=1&bar=2", "GvWf1cFY/Q7PnoempGyD5oXAezc="
	if got := twilio.Signature("12345", u, params); got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
	if !twilio.ValidSignature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", params, want) {
		t.Fatal("default port variant rejected")
	}
	if twiliotest.Sign("12345", u, params) != want {
		t.Fatal("fake signs differently")
	}
}

// TestSignature_NameThatPrefixesAnother: Twilio sorts the parameters by
// name, so "To" comes before "ToCountry"; sorting "name+value" strings
// instead puts "ToCountryUS" before "Towhatsapp:…" and refuses genuine
// WhatsApp webhooks. The expected value was computed with openssl over the
// string Twilio's documentation describes:
//
//	printf '%s' 'https://example.com/hooks/whatsapp.twilio/mainBodyholaFromwhatsapp:+15557654321MessageSidSM123Towhatsapp:+14155238886ToCountryUS' |
//	  openssl dgst -sha1 -hmac 12345 -binary | base64
func TestSignature_NameThatPrefixesAnother(t *testing.T) {
	params := url.Values{
		"To": {"whatsapp:+14155238886"}, "ToCountry": {"US"}, "From": {"whatsapp:+15557654321"},
		"Body": {"hola"}, "MessageSid": {"SM123"},
	}
	const u = "https://example.com/hooks/whatsapp.twilio/main"
	const want = "fGLMijq/JSP1qfhrZCUBSNsNlks="
	const byNameValue = "Syc0s5+34A4eBeU5/oDQpSgcUAw=" // the same over "…ToCountryUSTowhatsapp:…"
	if got := twilio.Signature("12345", u, params); got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
	if got := twiliotest.Sign("12345", u, params); got != want {
		t.Fatalf("the fake signs %s, want %s", got, want)
	}
	if twilio.ValidSignature("12345", u, params, byNameValue) {
		t.Fatal("a signature over name+value-sorted pairs was accepted")
	}
}

func TestInbound_WhatsAppWithToCountryIsAccepted(t *testing.T) {
	env, fake := setup(t, twilio.WhatsApp)
	p := fake.InboundParams("whatsapp:"+customer, "whatsapp:"+business, "hola")
	if p.Get("ToCountry") == "" || p.Get("To") == "" {
		t.Fatalf("the fake's webhook lacks To or ToCountry: %v", p)
	}
	if status, body := post(t, env, fake, twilio.WhatsApp, p); status != http.StatusOK {
		t.Fatalf("status %d %s", status, body)
	}
	if n := len(env.Messages()); n != 1 {
		t.Fatalf("%d messages stored", n)
	}
}

func TestGolden(t *testing.T) {
	hubtest.Golden(t, *update, func(name string, body []byte) (*channels.Webhook, error) {
		return twilio.ParseForm(body, strings.HasPrefix(name, "whatsapp"))
	})
}

func FuzzParseForm(f *testing.F) {
	f.Add([]byte("MessageSid=SM1&From=%2B15557654321&To=%2B15550001234&Body=hi&NumMedia=1&MediaUrl0=https%3A%2F%2Fx"), false)
	f.Add([]byte("MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003"), true)
	f.Add([]byte("%zz&&=="), false)
	f.Fuzz(func(t *testing.T, body []byte, wa bool) {
		wh, err := twilio.ParseForm(body, wa)
		if err == nil && len(wh.Messages)+len(wh.Statuses) != 1 {
			t.Fatalf("parsed %d items", len(wh.Messages)+len(wh.Statuses))
		}
	})
}

func FuzzSignature(f *testing.F) {
	f.Add("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", "CallSid=CA1234567890ABCDE&Caller=%2B14158675310&Digits=1234&From=%2B14158675310&To=%2B18005551212", "GvWf1cFY/Q7PnoempGyD5oXAezc=")
	f.Add("t", "http://h:80/x", "a=1&a=0", "")
	f.Fuzz(func(t *testing.T, token, u, form, sig string) {
		params, _ := url.ParseQuery(form)
		twilio.ValidSignature(token, u, params, sig) // must not panic
		if !twilio.ValidSignature(token, u, params, twilio.Signature(token, u, params)) {
			t.Fatal("own signature rejected")
		}
		if twilio.Signature(token, u, params) != twiliotest.Sign(token, u, params) {
			t.Fatal("connector and fake disagree")
		}
	})
}
