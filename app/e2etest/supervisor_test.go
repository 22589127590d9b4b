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
	"sync"
	"testing"

	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/server"
)

// TestSupervisorView is the supervisor's end-to-end test; see
// frontend/e2e/supervisor.e2e.mjs. A real engine with three agents who take
// one chat at a time; a load generator creates tasks in the Support queue
// (red at three waiting) and the simulated agents accept and complete
// their offers through the engine's API while the supervisor's own app, in
// browser mode, shows it live.
func TestSupervisorView(t *testing.T) {
	if os.Getenv("SWITCHBOARD_E2E") == "" {
		t.Skip("set SWITCHBOARD_E2E=1 (make test does) to run the browser end-to-end test")
	}
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	addr := freeAddr(t)
	engine, err := server.Open(ctx, server.Config{Addr: addr, DataDir: t.TempDir(), PasswordCost: 4, Logger: logger,
		PublicURL: "http://" + addr, SecretKey: secret.MustNew()})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	queue := seedSupervisorWorkspace(t, engine)
	uis := serveApps(t, logger, "sue")
	control := loadControl(t, engine, queue)
	defer control.Close()
	runPlaywright(t, "e2e/supervisor.e2e.mjs", "E2E_ENGINE_URL="+engine.URL(), "E2E_UI_SUE="+uis["sue"], "E2E_CONTROL_URL="+control.URL)
}

// agentNames are the simulated agents.
var agentNames = []string{"ana", "ben", "cy"}

// seedSupervisorWorkspace creates Sue (supervisor), three available agents
// who take one chat each, and the Support queue, red at three waiting.
func seedSupervisorWorkspace(t *testing.T, e *server.Server) string {
	t.Helper()
	ctx := context.Background()
	sue := backend.User{Name: "Sue Supervisor", Email: "sue@example.com", Role: backend.RoleSupervisor}
	if err := e.DB.CreateUser(ctx, &sue, password); err != nil {
		t.Fatal(err)
	}
	for _, name := range agentNames {
		u := backend.User{Name: name, Email: name + "@example.com", Role: backend.RoleAgent}
		if err := e.DB.CreateUser(ctx, &u, password); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Routing.UpsertWorker(ctx, &backend.Worker{UserID: u.ID, Name: name, Activity: backend.ActivityAvailable,
			Capacity: map[string]int{backend.ChannelChat: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	// The engine's default queue, which every agent serves, gets the threshold.
	qs, err := e.Routing.Queues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Name == "Support" {
			q.SLASeconds, q.AlertWaiting = 30, 3
			if _, err := e.Routing.UpsertQueue(ctx, q); err != nil {
				t.Fatal(err)
			}
			return q.ID
		}
	}
	t.Fatal("the engine has no Support queue")
	return ""
}

// loadControl is the browser test's load generator: POST /tasks {"n"}
// creates chats in the queue; POST /accept and POST /complete have every
// agent with an offer (or a task) accept (or complete) it through the
// engine's API, signed in as themselves.
func loadControl(t *testing.T, e *server.Server, queue string) *httptest.Server {
	t.Helper()
	tokens := map[string]string{}
	for _, name := range agentNames {
		var out struct{ Token string }
		if err := apiCall(e.URL(), "", "POST", "/api/auth/signin", map[string]string{"email": name + "@example.com", "password": password}, &out); err != nil {
			t.Fatal(err)
		}
		tokens[name] = out.Token
	}
	var mu sync.Mutex // one load step at a time
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tasks", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		var in struct{ N int }
		json.NewDecoder(r.Body).Decode(&in)
		for range in.N {
			if _, err := e.Routing.CreateTask(r.Context(), backend.TaskInput{Channel: backend.ChannelChat, QueueID: queue}); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		}
	})
	// each has every agent act on their offers in one state.
	each := func(state string, act func(token string, o backend.Reservation) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			for _, name := range agentNames {
				var offers []backend.Reservation
				err := apiCall(e.URL(), tokens[name], "GET", "/api/me/reservations", nil, &offers)
				for _, o := range offers {
					if err == nil && o.State == state {
						err = act(tokens[name], o)
					}
				}
				if err != nil {
					http.Error(w, name+": "+err.Error(), 500)
					return
				}
			}
		}
	}
	mux.HandleFunc("POST /accept", each(backend.ReservationPending, func(token string, o backend.Reservation) error {
		return apiCall(e.URL(), token, "POST", "/api/reservations/"+o.ID+"/accept", nil, nil)
	}))
	mux.HandleFunc("POST /complete", each(backend.ReservationAccepted, func(token string, o backend.Reservation) error {
		return apiCall(e.URL(), token, "POST", "/api/tasks/"+o.TaskID+"/complete", map[string]string{"disposition": "Resolved"}, nil)
	}))
	return httptest.NewServer(mux)
}

// apiCall sends a JSON request to the engine and decodes the answer.
func apiCall(base, token, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}
