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
	"strings"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/channels/twilio/twiliotest"
)

const (
	accountSID = "AC00000000000000000000000000000001"
	authToken  = "e2e-auth-token"
	ourNumber  = "+15550000100"
	password   = "e2e-password"
)

// freeAddr returns a loopback address nobody listens on, so the engine's
// public URL (which Twilio signs) is known before it starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestAgentDesktop is the agents' end-to-end story; see frontend/e2e/agent.e2e.mjs.
func TestAgentDesktop(t *testing.T) {
	if os.Getenv("SWITCHBOARD_E2E") == "" {
		t.Skip("set SWITCHBOARD_E2E=1 (make test does) to run the browser end-to-end test")
	}
	builtFrontend(t)
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	fake := twiliotest.NewServer(accountSID, authToken)
	defer fake.Close()

	addr := freeAddr(t)
	engine, err := server.Open(ctx, server.Config{
		Addr: addr, DataDir: t.TempDir(), PasswordCost: 4, Logger: logger, PublicURL: "http://" + addr, SecretKey: secret.MustNew(),
		ChannelBaseURLs: map[string]string{"sms.twilio": fake.URL, "whatsapp.twilio": fake.URL},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	seedWorkspace(t, engine)

	// Each agent has their own app (own data dir, cache and keyring entry).
	uis := serveApps(t, logger, "ana", "ben")
	control := httpControl(t, engine, fake)
	defer control.Close()
	runPlaywright(t, "e2e/agent.e2e.mjs", "E2E_ENGINE_URL="+engine.URL(), "E2E_UI_ANA="+uis["ana"], "E2E_UI_BEN="+uis["ben"],
		"E2E_CONTROL_URL="+control.URL)
}

// seedWorkspace creates two agents with workers, one queue, a workflow and
// the SMS and WhatsApp channels on the fake Twilio account.
func seedWorkspace(t *testing.T, e *server.Server) {
	t.Helper()
	ctx := context.Background()
	for _, u := range []backend.User{
		{Name: "Ana Agent", Email: "ana@example.com", Role: backend.RoleAgent},
		{Name: "Ben Agent", Email: "ben@example.com", Role: backend.RoleAgent},
	} {
		if err := e.DB.CreateUser(ctx, &u, password); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Routing.UpsertWorker(ctx, &backend.Worker{ID: "wk_" + strings.ToLower(u.Name[:3]), UserID: u.ID, Name: u.Name,
			Activity: backend.ActivityAvailable, Attributes: map[string]any{"languages": []any{"en"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Routing.UpsertWorkflow(ctx, &backend.Workflow{ID: "wf_default", Name: "Default", ReservationTimeoutSeconds: 120,
		Default: []backend.WorkflowTarget{{QueueID: "q_support"}}}); err != nil {
		t.Fatal(err)
	}
	for _, connector := range []string{"sms.twilio", "whatsapp.twilio"} {
		cfg := fmt.Sprintf(`{"accountSid":%q,"authToken":%q,"from":%q}`, accountSID, authToken, ourNumber)
		if err := e.Channels.PutInstance(ctx, &backend.ChannelInstance{Connector: connector, Instance: "main", Config: json.RawMessage(cfg), Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
}

// httpControl lets the browser test act as the customer and the platform:
// POST /inbound {channel, from, body} posts a signed webhook through the
// fake; GET /sent lists what the fake received; POST /status {sid, status}
// sends a signed delivery callback.
func httpControl(t *testing.T, e *server.Server, fake *twiliotest.Server) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /inbound", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Channel, From, Body string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		from, to := in.From, ourNumber
		if in.Channel == "whatsapp.twilio" {
			from, to = "whatsapp:"+in.From, "whatsapp:"+ourNumber
		}
		hook := e.URL() + "/hooks/" + in.Channel + "/main"
		params := fake.InboundParams(from, to, in.Body)
		if params.Has("ProfileName") {
			params.Set("ProfileName", "Maria Lopez")
		}
		resp, err := http.DefaultClient.Do(fake.WebhookRequest(hook, params))
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	})
	mux.HandleFunc("GET /sent", func(w http.ResponseWriter, r *http.Request) {
		type sent struct{ Path, To, From, Body string }
		list := []sent{}
		for _, req := range fake.Requests() {
			if req.Method == "POST" && strings.HasSuffix(req.Path, "/Messages.json") {
				list = append(list, sent{Path: req.Path, To: req.Form.Get("To"), From: req.Form.Get("From"), Body: req.Form.Get("Body")})
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(list)
	})
	mux.HandleFunc("POST /status", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Body, Status string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		sid, err := sidFor(e, in.Body)
		if err != nil {
			http.Error(w, err.Error(), 404)
			return
		}
		status, err := fake.StatusCallback(sid, in.Status, "")
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		w.WriteHeader(status)
	})
	return httptest.NewServer(mux)
}

// sidFor finds the platform id the engine recorded for the outbound
// message with this text.
func sidFor(e *server.Server, body string) (string, error) {
	var sid string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		err := e.DB.Reader().QueryRow(`SELECT COALESCE(external_id, '') FROM messages WHERE direction = 'out' AND text = ? ORDER BY created_at DESC LIMIT 1`, body).Scan(&sid)
		if err == nil && sid != "" {
			return sid, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", fmt.Errorf("no sent message with text %q", body)
}
