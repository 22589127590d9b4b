package e2etest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"switchboard/app"
	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/backend/voice/voicetest"
)

// TestCallControls drives the call card in the real UI; see
// frontend/e2e/call.e2e.mjs.
func TestCallControls(t *testing.T) {
	if os.Getenv("SWITCHBOARD_E2E") == "" {
		t.Skip("set SWITCHBOARD_E2E=1 (make test does) to run the browser end-to-end test")
	}
	dist := filepath.Join("..", "..", "frontend", "dist")
	if _, err := os.Stat(filepath.Join(dist, "index.html")); err != nil {
		t.Fatalf("build the frontend first (npm run build): %v", err)
	}
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	engine, err := server.Open(ctx, server.Config{DataDir: t.TempDir(), PasswordCost: 4, Logger: logger, SecretKey: secret.MustNew(),
		Voice: server.VoiceConfig{SIPAddr: "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	u := backend.User{Name: "Ana Agent", Email: "ana@example.com", Role: backend.RoleAgent}
	if err := engine.DB.CreateUser(ctx, &u, password); err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Routing.UpsertWorker(ctx, &backend.Worker{ID: "wk_ana", UserID: u.ID, Name: u.Name, Activity: backend.ActivityAvailable}); err != nil {
		t.Fatal(err)
	}
	if err := engine.Voice.PutTrunk(ctx, &backend.Trunk{Name: "main", Enabled: true, Config: []byte(`{"allow":["127.0.0.1"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Flows.SetFlow(ctx, "voice.sip/main", &backend.Flow{Name: "Straight to an agent", Widgets: []backend.FlowWidget{
		{Name: "trigger", Type: "trigger", Transitions: map[string]string{"incomingCall": "enqueue"}},
		{Name: "enqueue", Type: "enqueue-call", Transitions: map[string]string{"failed": "bye"}},
		{Name: "bye", Type: "hangup"}}}); err != nil {
		t.Fatal(err)
	}
	a := app.New(app.Config{DataDir: t.TempDir(), KeyringService: "switchboard-e2e-call", Logger: logger, Audio: app.AudioNull}, "browser")
	b, err := app.ServeBrowser(a, os.DirFS(dist), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	var mu sync.Mutex
	var caller *voicetest.Caller
	defer func() {
		if caller != nil {
			caller.Close()
		}
	}()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /call", func(w http.ResponseWriter, r *http.Request) {
		c, err := voicetest.Dial(r.Context(), engine.Voice.SIPAddr(), "+15551234567", "+15550100", 440)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		mu.Lock()
		caller = c
		mu.Unlock()
		fmt.Fprint(w, `{}`)
	})
	mux.HandleFunc("GET /caller", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		c := caller
		mu.Unlock()
		var st struct {
			HearsAgent, OnHold, Ended bool
		}
		if c != nil {
			// The phone's microphone is the null device: silence. The
			// caller hears the agent's silence, or music when held.
			frames, music := c.ToneShare(523.25)
			st.OnHold = frames > 10 && music > 0.2
			st.HearsAgent = frames > 10 && music < 0.05
			select {
			case <-c.Ended():
				st.Ended = true
			default:
			}
			c.ResetHeard()
		}
		json.NewEncoder(w).Encode(map[string]bool{"hearsAgent": st.HearsAgent, "onHold": st.OnHold, "ended": st.Ended})
	})
	control := httptest.NewServer(mux)
	defer control.Close()

	out, _ := filepath.Abs(filepath.Join("..", "..", "build", "test-output"))
	cmd := exec.Command("node", "--test", "e2e/call.e2e.mjs")
	cmd.Dir = filepath.Join("..", "..", "frontend")
	cmd.Env = append(os.Environ(), "E2E_ENGINE_URL="+engine.URL(), "E2E_UI="+b.URL, "E2E_CONTROL_URL="+control.URL,
		"E2E_PASSWORD="+password, "E2E_OUT="+out)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
}
