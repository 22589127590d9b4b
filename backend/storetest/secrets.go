package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/backend/secret"
)

// Secrets PutSecrets stores, to look for on disk.
const (
	TwilioToken = "tw-auth-token-7f3a9c"
	BotToken    = "123456:bot-token-b81e"
	Bearer      = "Bearer flow-api-key-c42d"
)

// HTTPFlow is a flow whose HTTP widget sends an Authorization header.
func HTTPFlow() *backend.Flow {
	return &backend.Flow{Name: "bot", Widgets: []backend.FlowWidget{
		{Name: "trigger", Type: "trigger", Transitions: map[string]string{"incomingMessage": "ask"}},
		{Name: "ask", Type: "make-http-request", Properties: json.RawMessage(
			`{"url":"https://bot.example.com/answer","headers":{"Authorization":"` + Bearer + `","X-Plain":""}}`)},
	}}
}

// PutSecrets stores one secret of each kind and returns the web chat key.
func PutSecrets(t *testing.T, db Store) []byte {
	t.Helper()
	ctx := context.Background()
	for _, ci := range []*backend.ChannelInstance{
		{Connector: "sms.twilio", Instance: "main", Enabled: true, Config: json.RawMessage(`{"accountSid":"AC1","authToken":"` + TwilioToken + `"}`)},
		{Connector: "telegram", Instance: "bot", Enabled: true, Config: json.RawMessage(`{"botToken":"` + BotToken + `"}`)},
	} {
		if err := db.PutChannelInstance(ctx, ci); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.PutFlow(ctx, "sms.twilio/main", HTTPFlow()); err != nil {
		t.Fatal(err)
	}
	key, err := db.WebchatKey(ctx, "visitor-token")
	if err != nil || len(key) != 32 {
		t.Fatalf("webchat key %d bytes, %v", len(key), err)
	}
	return key
}

// CheckSecretsRead checks that every secret reads back in clear and that
// the change feed carries the flow's headers redacted.
func CheckSecretsRead(t *testing.T, db Store, webchatKey []byte) {
	t.Helper()
	ctx := context.Background()
	ci, err := db.FindChannelInstance(ctx, "sms.twilio", "main")
	if err != nil || !strings.Contains(string(ci.Config), TwilioToken) {
		t.Fatalf("channel config reads back as %s, %v", ci.Config, err)
	}
	rev, err := db.FindFlow(ctx, "sms.twilio/main")
	if err != nil || !strings.Contains(string(rev.Flow.Widgets[1].Properties), Bearer) {
		t.Fatalf("flow reads back as %+v, %v", rev, err)
	}
	if got, err := db.WebchatKey(ctx, "visitor-token"); err != nil || string(got) != string(webchatKey) {
		t.Fatalf("web chat key changed: %v", err)
	}
	evs, err := db.EventsSince(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Type == backend.EventFlowUpserted && (strings.Contains(string(e.Data), Bearer) || !strings.Contains(string(e.Data), backend.Redacted)) {
			t.Fatalf("flow event carries %s", e.Data)
		}
	}
}

func testSecretsSealedAndRedacted(t *testing.T, h harness) {
	where, key := h.b.New(t), secret.MustNew()
	db := h.openWith(t, where, Options{Key: key})
	webchatKey := PutSecrets(t, db)
	CheckSecretsRead(t, db, webchatKey)
	db.Close()
	CheckSecretsRead(t, h.openWith(t, where, Options{Key: key}), webchatKey)
}

func testSecretsWithoutKey(t *testing.T, h harness) {
	ctx := context.Background()
	where := h.b.New(t)
	db := h.openWith(t, where, Options{})
	if has, err := db.HasSecrets(ctx); err != nil || has {
		t.Fatalf("HasSecrets on a new store = %v, %v", has, err)
	}
	err := db.PutChannelInstance(ctx, &backend.ChannelInstance{Connector: "telegram", Instance: "bot", Config: json.RawMessage(`{"botToken":"x"}`)})
	if backend.ErrorCode(err) != backend.EUnavailable || !strings.Contains(backend.ErrorMessage(err), "--secret-key-file") {
		t.Fatalf("put channel without a key: %v", err)
	}
	if _, err := db.WebchatKey(ctx, "visitor-token"); backend.ErrorCode(err) != backend.EUnavailable {
		t.Fatalf("web chat key without a key: %v", err)
	}
	if _, err := db.PutFlow(ctx, "sms.twilio/main", HTTPFlow()); backend.ErrorCode(err) != backend.EUnavailable {
		t.Fatalf("flow with headers without a key: %v", err)
	}
	plain := &backend.Flow{Name: "plain", Widgets: []backend.FlowWidget{{Name: "trigger", Type: "trigger"}}}
	if _, err := db.PutFlow(ctx, "sms.twilio/main", plain); err != nil {
		t.Fatalf("a flow without secrets needs no key: %v", err)
	}
	if has, err := db.HasSecrets(ctx); err != nil || has {
		t.Fatalf("HasSecrets after refused writes = %v, %v", has, err)
	}
	db.Close()

	key := secret.MustNew()
	PutSecrets(t, h.openWith(t, where, Options{Key: key}))
	if wrong, err := h.b.Open(t, where, Options{Key: secret.MustNew()}); err == nil || !strings.Contains(err.Error(), "not the one") {
		if wrong != nil {
			wrong.Close()
		}
		t.Fatalf("open with another key: %v", err)
	}
	again := h.openWith(t, where, Options{})
	if has, err := again.HasSecrets(ctx); err != nil || !has {
		t.Fatalf("HasSecrets after sealing = %v, %v", has, err)
	}
	if _, err := again.FindChannelInstance(ctx, "sms.twilio", "main"); backend.ErrorCode(err) != backend.EUnavailable {
		t.Fatalf("read a sealed config without the key: %v", err)
	}
}
