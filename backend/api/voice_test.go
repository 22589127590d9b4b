package api_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/api"
	"switchboard/backend/routing"
	"switchboard/backend/voice"
)

func mustVoice(tb testing.TB, e *testEngine) *voice.Engine {
	tb.Helper()
	v, err := voice.New(e.DB, voice.Options{DataDir: tb.TempDir(), BindIP: net.IPv4(127, 0, 0, 1),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	r := routing.New(e.DB, routing.Options{})
	if err := r.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	v.SetRouter(r)
	v.SetSignal(e.API.SendToUser)
	e.API.SetVoice(v)
	if err := v.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { v.Close() })
	return v
}

// Trunks are the admin's: agents are refused, passwords never come back,
// and a bad configuration is refused with a sentence.
func TestAPI_TrunksAreAdminOnly(t *testing.T) {
	e := MustStartEngine(t)
	mustVoice(t, e)
	admin, agent := e.SignIn(t, "admin@example.com"), e.SignIn(t, "agent@example.com")
	body := `{"config":{"registrar":"127.0.0.1:5099","username":"acme","password":"s3cret","allow":["127.0.0.1"]}}`
	var resp api.ErrorResponse
	for _, tc := range []struct {
		name, token, method, path, body string
		status                          int
	}{
		{"agent lists", agent, "GET", "/api/voice/trunks", "", 403},
		{"agent puts", agent, "PUT", "/api/voice/trunks/main", body, 403},
		{"agent deletes", agent, "DELETE", "/api/voice/trunks/main", "", 403},
		{"no token", "", "GET", "/api/voice/trunks", "", 401},
		{"bad config", admin, "PUT", "/api/voice/trunks/main", `{"config":{"allow":["carrier"]}}`, 400},
		{"no config", admin, "PUT", "/api/voice/trunks/main", `{}`, 400},
		{"bad name", admin, "PUT", "/api/voice/trunks/a%20b", body, 400},
		{"unknown trunk", admin, "DELETE", "/api/voice/trunks/nope", "", 404},
		{"agent reads a call", agent, "GET", "/api/calls/call_nope", "", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if st := e.Do(t, tc.token, tc.method, tc.path, tc.body, &resp); st != tc.status || !strings.HasSuffix(resp.Error.Message, ".") {
				t.Fatalf("%d %+v, want %d with a sentence", st, resp, tc.status)
			}
		})
	}
	var tr backend.Trunk
	if st := e.Do(t, admin, "PUT", "/api/voice/trunks/main", body, &tr); st != 200 || strings.Contains(string(tr.Config), "s3cret") || !strings.Contains(string(tr.Config), "********") {
		t.Fatalf("put: %d %s", st, tr.Config)
	}
	// Saving the redacted placeholder keeps the stored password.
	if st := e.Do(t, admin, "PUT", "/api/voice/trunks/main", strings.Replace(body, "s3cret", "********", 1), &tr); st != 200 {
		t.Fatalf("put again: %d", st)
	}
	stored, _ := e.DB.FindTrunks(context.Background())
	if len(stored) != 1 || !strings.Contains(string(stored[0].Config), "s3cret") {
		t.Fatalf("stored = %s", stored[0].Config)
	}
	var list []backend.Trunk
	if st := e.Do(t, admin, "GET", "/api/voice/trunks", "", &list); st != 200 || len(list) != 1 || strings.Contains(string(list[0].Config), "s3cret") {
		t.Fatalf("list: %d %+v", st, list)
	}
	if st := e.Do(t, admin, "DELETE", "/api/voice/trunks/main", "", nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
}

// Voice frames act only on calls that are the sender's: a frame for a call
// that is not live (or not theirs) gets a voice.error with a sentence, on
// the sender's connection only.
func TestAPI_VoiceFramesAnswerOnlyTheSender(t *testing.T) {
	e := MustStartEngine(t)
	mustVoice(t, e)
	agent, admin := e.SignIn(t, "agent@example.com"), e.SignIn(t, "admin@example.com")
	a := dialFeed(t, e, agent, 1<<40)
	b := dialFeed(t, e, admin, 1<<40)
	if err := a.WriteMessage(1, []byte(`{"type":"voice.hangup","callId":"call_nope","nonce":"n1"}`)); err != nil {
		t.Fatal(err)
	}
	a.SetReadDeadline(time.Now().Add(10 * time.Second))
	var f struct{ Type, CallID, Nonce, Error string }
	if err := a.ReadJSON(&f); err != nil {
		t.Fatal(err)
	}
	if f.Type != "voice.error" || f.Nonce != "n1" || !strings.Contains(f.Error, "not live") {
		t.Fatalf("frame = %+v", f)
	}
	a.WriteMessage(1, []byte(`{"type":"voice.hold","callId":"x","bogus":1}`))
	if err := a.ReadJSON(&f); err != nil || f.Type != "voice.error" || !strings.Contains(f.Error, "not valid JSON") {
		t.Fatalf("frame = %+v, %v", f, err)
	}
	b.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if err := b.ReadJSON(&f); err == nil {
		t.Fatalf("another user got the agent's answer: %+v", f)
	}
}
