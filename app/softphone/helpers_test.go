package softphone_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/app/client"
	"switchboard/app/softphone"
	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/backend/sqlite"
	"switchboard/backend/voice"
)

// engine is a whole engine on loopback with SIP, a trunk and two agents.
type engine struct {
	*server.Server
	admin string
}

const (
	trunkNumber = "+15550100"
	callerPhone = "+15551234567"
)

var agents = []backend.User{
	{Name: "Ana Agent", Email: "ana@example.com", Role: backend.RoleAgent},
	{Name: "Ben Agent", Email: "ben@example.com", Role: backend.RoleAgent},
	{Name: "Sue Supervisor", Email: "sue@example.com", Role: backend.RoleSupervisor},
	{Name: "Alex Admin", Email: "admin@example.com", Role: backend.RoleAdmin},
}

func MustStartEngine(tb testing.TB, options ...func(*server.Config)) *engine {
	tb.Helper()
	dir := tb.TempDir()
	db := sqlite.NewDB(filepath.Join(dir, "engine.db"))
	db.PasswordCost = 4
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	for _, u := range agents {
		if err := db.CreateUser(context.Background(), &u, "password1"); err != nil {
			tb.Fatal(err)
		}
	}
	db.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("VOICE_DEBUG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cfg := server.Config{DataDir: dir, PasswordCost: 4, Logger: log, SecretKey: secret.MustNew(),
		Voice: server.VoiceConfig{SIPAddr: "127.0.0.1:0"}}
	for _, o := range options {
		o(&cfg)
	}
	s, err := server.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	e := &engine{Server: s}
	e.admin = e.signIn(tb, "admin@example.com")
	e.do(tb, e.admin, "PUT", "/api/voice/trunks/main", fmt.Sprintf(`{"config":{"allow":["127.0.0.1"],"numbers":[%q]}}`, trunkNumber), nil, 200)
	return e
}

func (e *engine) signIn(tb testing.TB, email string) string {
	tb.Helper()
	res, err := client.New(e.URL(), "").SignIn(context.Background(), email, "password1")
	if err != nil {
		tb.Fatal(err)
	}
	return res.Token
}

// do sends a request and checks the status.
func (e *engine) do(tb testing.TB, token, method, path, body string, out any, want int) {
	tb.Helper()
	req, _ := http.NewRequest(method, e.URL()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		tb.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			tb.Fatalf("decode %s: %v", raw, err)
		}
	}
}

// agent is a signed-in agent with a softphone speaking a tone.
type agent struct {
	user    backend.User
	worker  backend.Worker
	token   string
	phone   *softphone.Phone
	speaker *softphone.Capture
	events  chan softphone.Event

	mu  sync.Mutex
	log []softphone.Event
}

// callTimeline reads a call's conversation as token sees it: its messages'
// texts joined with " | ", and whether the call's recording is attached.
func (e *engine) callTimeline(tb testing.TB, token string, call backend.Call) (string, bool) {
	tb.Helper()
	var msgs []backend.Message
	e.do(tb, token, "GET", "/api/conversations/"+call.ConversationID+"/messages", "", &msgs, 200)
	var texts []string
	recording := false
	for _, m := range msgs {
		texts = append(texts, m.Text)
		for _, a := range m.Attachments {
			recording = recording || a.URL == "/api/calls/"+call.ID+"/recording"
		}
	}
	return strings.Join(texts, " | "), recording
}

// MustAgent signs an agent in, makes them Available and dials their phone.
func (e *engine) MustAgent(tb testing.TB, email string, tone float64) *agent {
	tb.Helper()
	a := &agent{token: e.signIn(tb, email), speaker: softphone.NewCapture(50), events: make(chan softphone.Event, 256)}
	e.do(tb, a.token, "GET", "/api/me", "", &a.user, 200)
	e.do(tb, a.token, "GET", "/api/me/worker", "", &a.worker, 200)
	e.do(tb, a.token, "POST", "/api/me/activity", `{"activity":"Available"}`, nil, 200)
	a.dialPhone(tb, e, tone)
	return a
}

// MustSupervisor signs a supervisor (or admin) in and dials their phone,
// speaking a tone; they take no calls of their own.
func (e *engine) MustSupervisor(tb testing.TB, email string, tone float64) *agent {
	tb.Helper()
	a := &agent{token: e.signIn(tb, email), speaker: softphone.NewCapture(50), events: make(chan softphone.Event, 256)}
	e.do(tb, a.token, "GET", "/api/me", "", &a.user, 200)
	a.dialPhone(tb, e, tone)
	return a
}

// dialPhone connects the user's softphone with a tone as its microphone.
func (a *agent) dialPhone(tb testing.TB, e *engine, tone float64) {
	tb.Helper()
	settings := voice.SettingEngine(net.IPv4(127, 0, 0, 1), "", 0, 0)
	p, err := softphone.Dial(context.Background(), softphone.Options{URL: e.URL(), Token: a.token,
		Mic: softphone.NewToneSource(tone), Speaker: a.speaker, Settings: &settings,
		OnEvent: func(ev softphone.Event) {
			a.mu.Lock()
			a.log = append(a.log, ev)
			a.mu.Unlock()
			if ev.Type != "quality" {
				select {
				case a.events <- ev:
				default:
				}
			}
		}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	a.phone = p
}

// next waits for the agent's next event of a type.
func (a *agent) next(tb testing.TB, typ string) softphone.Event {
	tb.Helper()
	return a.nextWithin(tb, typ, 20*time.Second)
}

// nextWithin is next with its own deadline.
func (a *agent) nextWithin(tb testing.TB, typ string, d time.Duration) softphone.Event {
	tb.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-a.events:
			if ev.Type == "error" && typ != "error" {
				tb.Fatalf("%s: phone error: %s", a.user.Name, ev.Error)
			}
			if ev.Type == typ {
				return ev
			}
		case <-deadline:
			tb.Fatalf("%s: no %s event", a.user.Name, typ)
		}
	}
}

// waitFor polls cond until it holds (media takes real time to flow).
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hears reports whether the capture heard freq in most of its recent frames.
func hears(c *softphone.Capture, freq float64) bool {
	n, share := c.ToneShare(freq)
	return n >= 25 && share > 0.8
}
