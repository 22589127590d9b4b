package channels_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/channels"
	"switchboard/channels/internal/hubtest"
	"switchboard/channels/twilio"
	"switchboard/channels/twilio/twiliotest"
)

func TestRegister_PanicsOnEmptyOrDuplicateID(t *testing.T) {
	mustPanic := func(name string, info channels.Info) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		channels.Register(info)
	}
	newFn := func(channels.Params) (channels.Connector, error) { return nil, nil }
	mustPanic("empty", channels.Info{New: newFn})
	mustPanic("duplicate", channels.Info{ID: twilio.SMS, New: newFn})
	mustPanic("no New", channels.Info{ID: "x.nonew"})
}

func TestSecret_NeverPrinted(t *testing.T) {
	cfg := struct {
		Token channels.Secret `json:"token"`
	}{"hunter2-token"}
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "cfg", cfg, "token", cfg.Token)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v %#v %s", cfg, cfg, cfg.Token), logs.String()} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("secret printed: %s", s)
		}
	}
	var out struct {
		Token channels.Secret `json:"token"`
	}
	if err := channels.DecodeConfig([]byte(`{"token":"abc"}`), &out); err != nil || out.Token.Reveal() != "abc" {
		t.Fatalf("decode: %v %q", err, out.Token.Reveal())
	}
	if err := channels.DecodeConfig([]byte(`{"token":"abc","extra":1}`), &out); backend.ErrorCode(err) != backend.EInvalid {
		t.Fatalf("unknown field: %v", err)
	}
	if err := channels.DecodeConfig([]byte(`{"token":"abc"} {}`), &out); backend.ErrorCode(err) != backend.EInvalid {
		t.Fatalf("trailing data: %v", err)
	}
}

func TestHub_RoutesAndLimits(t *testing.T) {
	fake := twiliotest.NewServer(crashAccount, crashToken)
	defer fake.Close()
	env := hubtest.New(t, twilio.SMS, "main", map[string]any{"accountSid": crashAccount, "authToken": crashToken, "from": "+15550001234"}, fake.URL)
	const form = "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		method, path string
		contentType  string
		body         string
		want         int
		code         string
	}{
		{"POST", "/hooks/sms.twilio/nope", form, "", http.StatusNotFound, backend.ENotFound},
		{"POST", "/hooks/nope/main", form, "", http.StatusNotFound, backend.ENotFound},
		{"POST", "/hooks/sms.twilio", form, "", http.StatusNotFound, backend.ENotFound},
		{"GET", "/hooks/sms.twilio/main", "", "", http.StatusMethodNotAllowed, backend.EInvalid},
		{"DELETE", "/hooks/sms.twilio/main", "", "", http.StatusMethodNotAllowed, backend.EInvalid},
		{"POST", "/hooks/sms.twilio/main", form, strings.Repeat("a", 2<<20), http.StatusRequestEntityTooLarge, backend.ETooLarge},
		{"POST", "/hooks/sms.twilio/main", "text/plain", "MessageSid=SM1", http.StatusUnsupportedMediaType, backend.EInvalid},
		{"POST", "/hooks/sms.twilio/main", form, "MessageSid=SM1", http.StatusUnauthorized, backend.EUnauthorized},
	} {
		req, _ := http.NewRequest(tc.method, env.Server.URL+tc.path, strings.NewReader(tc.body))
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		got, body := hubtest.Do(t, req)
		if got != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, got, tc.want)
		}
		hubtest.MustBeAPIError(t, body, tc.code)
	}
}

func TestHub_PutInstanceKeepsRedactedSecrets(t *testing.T) {
	fake := twiliotest.NewServer(crashAccount, crashToken)
	defer fake.Close()
	env := hubtest.New(t, twilio.SMS, "main", map[string]any{"accountSid": crashAccount, "authToken": crashToken, "from": "+15550001234"}, fake.URL)
	ctx := t.Context()
	cis, _ := env.Hub.Instances(ctx)
	ci := cis[0]
	ci.Config = []byte(strings.Replace(string(ci.Config), "+15550001234", "+15550009999", 1))
	if err := env.Hub.PutInstance(ctx, ci); err != nil {
		t.Fatal(err)
	}
	stored, _ := env.DB.FindChannelInstance(ctx, twilio.SMS, "main")
	if !strings.Contains(string(stored.Config), crashToken) || !strings.Contains(string(stored.Config), "+15550009999") {
		t.Fatalf("stored config lost its secret or the edit: %s", stored.Config)
	}
	ci.Config = []byte(`{"accountSid":"AC1","authToken":"x","from":"+1","typo":true}`)
	if err := env.Hub.PutInstance(ctx, ci); backend.ErrorCode(err) != backend.EInvalid {
		t.Fatalf("bad config accepted: %v", err)
	}
}
