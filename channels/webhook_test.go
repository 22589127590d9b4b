package channels_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/channels/custom"
	"switchboard/channels/custom/customtest"
	"switchboard/channels/internal/hubtest"
	"switchboard/channels/line"
	"switchboard/channels/line/linetest"
	"switchboard/channels/messenger"
	"switchboard/channels/messenger/messengertest"
	"switchboard/channels/telegram"
	"switchboard/channels/twilio"
	"switchboard/channels/twilio/twiliotest"
	"switchboard/channels/whatsapp"
	"switchboard/channels/whatsapp/whatsapptest"
)

// jsonConnector is one JSON webhook platform and the headers its platform
// signs a body with (from each fake's Sign).
type jsonConnector struct {
	id     string
	config map[string]any
	sign   func(body []byte) map[string]string
	// valid is a body the connector reads (and that stores nothing).
	valid string
}

func jsonConnectors() []jsonConnector {
	const secret = "shared-secret-0123456789"
	return []jsonConnector{
		{custom.ID, map[string]any{"secret": secret, "url": "https://example.invalid/replies"}, func(b []byte) map[string]string {
			ts := hubtest.Start.Unix()
			return map[string]string{"X-Switchboard-Timestamp": strconv.FormatInt(ts, 10), "X-Switchboard-Signature": customtest.Sign(secret, ts, b)}
		}, `{"type":"status","id":"ext-1","status":"delivered"}`},
		{line.ID, map[string]any{"channelSecret": secret, "channelAccessToken": "t"}, func(b []byte) map[string]string {
			return map[string]string{"X-Line-Signature": linetest.Sign(secret, b)}
		}, `{"destination":"U0123456789abcdef0123456789abcdef","events":[]}`},
		{messenger.Messenger, map[string]any{"appSecret": secret, "accessToken": "t", "accountId": "PAGE1", "verifyToken": "v"}, func(b []byte) map[string]string {
			return map[string]string{"X-Hub-Signature-256": messengertest.Sign(secret, b)}
		}, `{"object":"page","entry":[]}`},
		{whatsapp.ID, map[string]any{"appSecret": secret, "accessToken": "t", "phoneNumberId": "200000000000001", "verifyToken": "v"}, func(b []byte) map[string]string {
			return map[string]string{"X-Hub-Signature-256": whatsapptest.Sign(secret, b)}
		}, `{"object":"whatsapp_business_account","entry":[]}`},
		{telegram.ID, map[string]any{"botToken": "1:bot", "secretToken": secret}, func([]byte) map[string]string {
			return map[string]string{"X-Telegram-Bot-Api-Secret-Token": secret}
		}, `{"update_id":1}`},
	}
}

func signedRequest(c jsonConnector, hookURL, contentType string, body []byte) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(body))
	for k, v := range c.sign(body) {
		req.Header.Set(k, v)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// TestWebhooks_JSONOnlyAndUnreadableIs400: a validly signed body is refused
// with 415 when it is not sent as JSON, and with 400 when it is signed JSON
// the connector cannot read; both with the API's error shape, nothing stored.
func TestWebhooks_JSONOnlyAndUnreadableIs400(t *testing.T) {
	for _, c := range jsonConnectors() {
		t.Run(c.id, func(t *testing.T) {
			env := hubtest.New(t, c.id, "main", c.config, "")
			hook := env.HookURL(c.id, "main")
			valid := []byte(c.valid)
			if st, body := hubtest.Do(t, signedRequest(c, hook, "application/json; charset=utf-8", valid)); st != http.StatusOK {
				t.Fatalf("the signed JSON body itself: %d %s", st, body)
			}
			for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", ""} {
				st, body := hubtest.Do(t, signedRequest(c, hook, ct, valid))
				if st != http.StatusUnsupportedMediaType {
					t.Errorf("signed body as %q: %d %s, want 415", ct, st, body)
				}
				hubtest.MustBeAPIError(t, body, backend.EInvalid)
			}
			st, body := hubtest.Do(t, signedRequest(c, hook, "application/json", []byte(`{"object": [unreadable`)))
			if st != http.StatusBadRequest {
				t.Errorf("signed unreadable JSON: %d %s, want 400", st, body)
			}
			hubtest.MustBeAPIError(t, body, backend.EInvalid)
			if n := len(env.Messages()); n != 0 {
				t.Fatalf("%d messages stored", n)
			}
		})
	}
}

// TestWebhooks_TwilioSignedButUnreadableIs400: Twilio's form posts that are
// correctly signed but not a message or status are 400, not 403.
func TestWebhooks_TwilioSignedButUnreadableIs400(t *testing.T) {
	fake := twiliotest.NewServer(crashAccount, crashToken)
	defer fake.Close()
	env := hubtest.New(t, twilio.SMS, "main", map[string]any{"accountSid": crashAccount, "authToken": crashToken, "from": "+15550001234"}, fake.URL)
	hook := env.HookURL(twilio.SMS, "main")
	for name, body := range map[string]string{
		"no MessageSid":   "From=%2B15557654321&Body=hi",
		"not a form":      "MessageSid=SM1&From=%2B15557654321&Body=%zz",
		"no From":         "MessageSid=SM1&Body=hi",
		"empty":           "",
		"only separators": "&&&",
	} {
		params, _ := url.ParseQuery(body)
		req, _ := http.NewRequest(http.MethodPost, hook, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", twiliotest.Sign(crashToken, hook, params))
		st, resp := hubtest.Do(t, req)
		if st != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, st, resp)
		}
		hubtest.MustBeAPIError(t, resp, backend.EInvalid)
	}
	req := fake.WebhookRequest(hook, fake.InboundParams("+15557654321", "+15550001234", "hi"))
	req.Header.Set("X-Twilio-Signature", "AAAA")
	st, resp := hubtest.Do(t, req)
	if st != http.StatusForbidden {
		t.Errorf("forged: %d", st)
	}
	hubtest.MustBeAPIError(t, resp, backend.EForbidden)
	if n := len(env.Messages()); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
}
