package e2etest_test

import (
	"bytes"
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
	"strconv"
	"sync"
	"testing"

	"switchboard/app"
	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/backend/voice/voicetest"
)

// TestCallControls drives the call card in the real UI; see
// frontend/e2e/call.e2e.mjs. The phone network is a Go SIP caller for the
// incoming call and Debian's sipp as the carrier that takes Ana's outbound
// call (it demands digest authentication and speaks a tone).
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
	seedVoice(t, engine)
	a := app.New(app.Config{DataDir: t.TempDir(), KeyringService: "switchboard-e2e-call", Logger: logger, Audio: app.AudioNull}, "browser")
	b, err := app.ServeBrowser(a, os.DirFS(dist), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	var caller phoneCaller
	defer caller.close()
	carrier := startCarrier(t)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /call", caller.dial(engine))
	mux.HandleFunc("POST /carrier", carrier.connect(engine))
	mux.HandleFunc("GET /carrier", carrier.state)
	mux.HandleFunc("GET /caller", func(w http.ResponseWriter, r *http.Request) {
		c := caller.get()
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

	queues, err := engine.Routing.Queues(ctx)
	if err != nil || len(queues) != 1 {
		t.Fatalf("queues = %v, %v; the call card is checked for the one queue's name", queues, err)
	}
	out, _ := filepath.Abs(filepath.Join("..", "..", "build", "test-output"))
	cmd := exec.Command("node", "--test", "e2e/call.e2e.mjs")
	cmd.Dir = filepath.Join("..", "..", "frontend")
	cmd.Env = append(os.Environ(), "E2E_ENGINE_URL="+engine.URL(), "E2E_UI="+b.URL, "E2E_CONTROL_URL="+control.URL,
		"E2E_PASSWORD="+password, "E2E_OUT="+out, "E2E_QUEUE="+queues[0].Name)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
}

// carrier is sipp taking outbound calls behind the trunk's proxy address.
type carrier struct {
	port   int
	exited <-chan error
	out    *bytes.Buffer

	mu   sync.Mutex
	done bool
	err  error
}

// startCarrier starts sipp with the softphone tests' carrier scenario: it
// answers the engine's OPTIONS keep-alive and one call (two sipp calls),
// then exits 0 once it got the call's BYE.
func startCarrier(t *testing.T) *carrier {
	dir := t.TempDir()
	voicetest.WriteULawTone(t, filepath.Join(dir, "tone.wav"), 700, 60)
	c := &carrier{port: voicetest.FreePort(t)}
	c.exited, c.out = voicetest.StartSipp(t, dir, filepath.Join("..", "softphone", "testdata", "callee.xml"), map[string]string{"{{TONE}}": "tone.wav"},
		"-m", "2", "-p", strconv.Itoa(c.port), "-mp", strconv.Itoa(voicetest.FreePort(t)))
	voicetest.WaitBound(t, c.port)
	return c
}

// connect handles POST /carrier: the trunk sends outbound calls to sipp,
// with the credentials sipp demands.
func (c *carrier) connect(e *server.Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cfg := fmt.Sprintf(`{"allow":["127.0.0.1"],"proxy":"127.0.0.1:%d","username":"acme","password":"s3cret","callerId":"+15550100"}`, c.port)
		if err := e.Voice.PutTrunk(r.Context(), &backend.Trunk{Name: "main", Enabled: true, Config: []byte(cfg)}); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprint(w, `{}`)
	}
}

// state handles GET /carrier: whether sipp has ended, and how.
func (c *carrier) state(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.done {
		select {
		case c.err = <-c.exited:
			c.done = true
		default:
		}
	}
	st := map[string]any{"ended": c.done, "ok": c.done && c.err == nil}
	if c.done && c.err != nil {
		st["output"] = c.out.String()
	}
	json.NewEncoder(w).Encode(st)
}
