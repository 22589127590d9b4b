package e2etest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"switchboard/app/softphone"
	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/backend/voice"
	"switchboard/backend/voice/voicetest"
)

// TestSupervisorJoinsCall is the supervisor's side of a call in the real
// UI; see frontend/e2e/monitor.e2e.mjs. A phone call reaches Ana, whose Go
// softphone answers it; Sue's app (browser mode) joins the call from the
// live view to listen, whisper and barge in, and leaves. The tones each
// party hears are checked by backend/voice's tests; here the control
// server reports the modes the engine recorded in its audit log.
func TestSupervisorJoinsCall(t *testing.T) {
	if os.Getenv("SWITCHBOARD_E2E") == "" {
		t.Skip("set SWITCHBOARD_E2E=1 (make test does) to run the browser end-to-end test")
	}
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	engine, err := server.Open(ctx, server.Config{DataDir: t.TempDir(), PasswordCost: 4, Logger: logger, SecretKey: secret.MustNew(),
		Voice: server.VoiceConfig{SIPAddr: "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	seedCallWorkspace(t, engine)
	ana := answeringPhone(t, engine, "ana@example.com")
	defer ana.Close()
	uis := serveApps(t, logger, "sue")

	var caller phoneCaller
	defer caller.close()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /call", caller.dial(engine))
	mux.HandleFunc("GET /modes", func(w http.ResponseWriter, r *http.Request) {
		entries, err := engine.DB.FindAudit(r.Context(), backend.AuditFilter{EntityType: "call", Limit: 50})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		modes := []string{}
		for i := len(entries) - 1; i >= 0; i-- {
			var d struct{ Mode string }
			json.Unmarshal(entries[i].Details, &d)
			modes = append(modes, entries[i].Action+":"+d.Mode)
		}
		json.NewEncoder(w).Encode(modes)
	})
	control := httptest.NewServer(mux)
	defer control.Close()
	runPlaywright(t, "e2e/monitor.e2e.mjs", "E2E_ENGINE_URL="+engine.URL(), "E2E_UI_SUE="+uis["sue"], "E2E_CONTROL_URL="+control.URL)
}

// seedCallWorkspace creates Sue (supervisor) and Ana (an available agent),
// a trunk and a voice flow that queues every call for an agent.
func seedCallWorkspace(t *testing.T, e *server.Server) {
	t.Helper()
	ctx := context.Background()
	for _, u := range []backend.User{
		{Name: "Sue Supervisor", Email: "sue@example.com", Role: backend.RoleSupervisor},
		{Name: "Ana Agent", Email: "ana@example.com", Role: backend.RoleAgent},
	} {
		if err := e.DB.CreateUser(ctx, &u, password); err != nil {
			t.Fatal(err)
		}
		if u.Role == backend.RoleAgent {
			if _, err := e.Routing.UpsertWorker(ctx, &backend.Worker{UserID: u.ID, Name: u.Name, Activity: backend.ActivityAvailable}); err != nil {
				t.Fatal(err)
			}
		}
	}
	seedVoice(t, e)
}

// seedVoice gives the engine a trunk that takes calls from loopback and a
// voice flow that queues every call for an agent.
func seedVoice(t *testing.T, e *server.Server) {
	t.Helper()
	ctx := context.Background()
	if err := e.Voice.PutTrunk(ctx, &backend.Trunk{Name: "main", Enabled: true, Config: []byte(`{"allow":["127.0.0.1"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Flows.SetFlow(ctx, "voice.sip/main", &backend.Flow{Name: "Straight to an agent", Widgets: []backend.FlowWidget{
		{Name: "trigger", Type: "trigger", Transitions: map[string]string{"incomingCall": "enqueue"}},
		{Name: "enqueue", Type: "enqueue-call", Transitions: map[string]string{"failed": "bye"}},
		{Name: "bye", Type: "hangup"}}}); err != nil {
		t.Fatal(err)
	}
}

// phoneCaller is the control server's caller on the phone network.
type phoneCaller struct {
	mu sync.Mutex
	c  *voicetest.Caller
}

// dial handles POST /call: a call to the engine's trunk, speaking 440 Hz.
func (p *phoneCaller) dial(e *server.Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := voicetest.Dial(context.Background(), e.Voice.SIPAddr(), "+15551234567", "+15550100", 440)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		p.mu.Lock()
		p.c = c
		p.mu.Unlock()
		fmt.Fprint(w, `{}`)
	}
}

// get returns the caller (nil before POST /call).
func (p *phoneCaller) get() *voicetest.Caller {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.c
}

func (p *phoneCaller) close() {
	if c := p.get(); c != nil {
		c.Close()
	}
}

// answeringPhone signs an agent in and connects a Go softphone, speaking a
// 1 kHz tone, that answers every call that rings it.
func answeringPhone(t *testing.T, e *server.Server, email string) *softphone.Phone {
	t.Helper()
	var out struct{ Token string }
	if err := apiCall(e.URL(), "", "POST", "/api/auth/signin", map[string]string{"email": email, "password": password}, &out); err != nil {
		t.Fatal(err)
	}
	settings := voice.SettingEngine(net.IPv4(127, 0, 0, 1), "", 0, 0)
	ring := make(chan string, 8)
	p, err := softphone.Dial(context.Background(), softphone.Options{URL: e.URL(), Token: out.Token, Settings: &settings,
		Mic: softphone.NewToneSource(1000), OnEvent: func(ev softphone.Event) {
			if ev.Type == "incoming" {
				ring <- ev.Call.ID
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for id := range ring {
			p.Answer(id)
		}
	}()
	t.Cleanup(func() { close(ring) })
	return p
}
