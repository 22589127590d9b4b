package e2etest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/channels/telegram/telegramtest"
)

// botToken is the fake Telegram bot's token the admin types into the form.
const botToken = "7000000001:AAE2e-admin-console-token"

// TestAdminConsole is the admin console's end-to-end test; see
// frontend/e2e/admin.e2e.mjs. A real engine points Telegram at its fake
// (the engine's channel base URL setting); an admin and an agent each run
// their own app in browser mode.
func TestAdminConsole(t *testing.T) {
	if os.Getenv("SWITCHBOARD_E2E") == "" {
		t.Skip("set SWITCHBOARD_E2E=1 (make test does) to run the browser end-to-end test")
	}
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	fake := telegramtest.NewServer(botToken)
	defer fake.Close()

	addr := freeAddr(t)
	engine, err := server.Open(ctx, server.Config{
		Addr: addr, DataDir: t.TempDir(), PasswordCost: 4, Logger: logger, PublicURL: "http://" + addr, SecretKey: secret.MustNew(),
		ChannelBaseURLs: map[string]string{"telegram": fake.URL},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	seedAdminWorkspace(t, engine)

	uis := serveApps(t, logger, "admin", "lucia")
	control := telegramControl(t, engine, fake)
	defer control.Close()
	runPlaywright(t, "e2e/admin.e2e.mjs", "E2E_ENGINE_URL="+engine.URL(), "E2E_UI_ADMIN="+uis["admin"], "E2E_UI_LUCIA="+uis["lucia"],
		"E2E_CONTROL_URL="+control.URL, "E2E_BOT_TOKEN="+botToken)

	// Every change the admin made in the browser is in the audit log.
	entries, err := engine.DB.FindAudit(ctx, backend.AuditFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	for _, e := range entries {
		if e.UserName == "Ada Admin" {
			done[e.Action] = true
		}
	}
	for _, want := range []string{"channel.save", "flow.save", "queue.create"} {
		if !done[want] {
			t.Errorf("the admin's %s left no audit entry (entries: %v)", want, done)
		}
	}
}

// seedAdminWorkspace creates the admin and two available agents: Lucia
// speaks Spanish and English, Ben only English.
func seedAdminWorkspace(t *testing.T, e *server.Server) {
	t.Helper()
	ctx := context.Background()
	for _, p := range []struct {
		user  backend.User
		langs []any
	}{
		{backend.User{Name: "Ada Admin", Email: "admin@example.com", Role: backend.RoleAdmin}, nil},
		{backend.User{Name: "Lucia Agent", Email: "lucia@example.com", Role: backend.RoleAgent}, []any{"es", "en"}},
		{backend.User{Name: "Ben Agent", Email: "ben@example.com", Role: backend.RoleAgent}, []any{"en"}},
	} {
		u := p.user
		if err := e.DB.CreateUser(ctx, &u, password); err != nil {
			t.Fatal(err)
		}
		if p.langs == nil {
			continue
		}
		if _, err := e.Routing.UpsertWorker(ctx, &backend.Worker{UserID: u.ID, Name: u.Name, Activity: backend.ActivityAvailable,
			Attributes: map[string]any{"languages": p.langs}}); err != nil {
			t.Fatal(err)
		}
	}
	ben, err := e.Routing.Workers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Ben is away, so the customer's hand-over is offered to Lucia.
	for _, w := range ben {
		if w.Name == "Ben Agent" {
			if _, err := e.Routing.SetWorkerActivity(ctx, w.ID, backend.ActivityBreak); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// telegramControl lets the browser test act as Telegram's customers: POST
// /telegram {userId, name, text, secret} posts an update to the instance's
// webhook with the secret token the admin configured, as Telegram does;
// GET /telegram/sent lists the texts the bot sent through the Bot API.
func telegramControl(t *testing.T, e *server.Server, fake *telegramtest.Server) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /telegram", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			UserID             int64
			Name, Text, Secret string
			Instance           string
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		update, _ := fake.TextUpdate(in.UserID, in.Name, in.Text)
		resp, err := http.DefaultClient.Do(telegramtest.WebhookRequest(e.URL()+"/hooks/telegram/"+in.Instance, in.Secret, update))
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	})
	mux.HandleFunc("GET /telegram/sent", func(w http.ResponseWriter, r *http.Request) {
		type sent struct {
			ChatID int64  `json:"chat_id"`
			Text   string `json:"text"`
		}
		list := []sent{}
		for _, req := range fake.Requests() {
			if req.Method == "sendMessage" {
				var s sent
				json.NewDecoder(bytes.NewReader(req.Body)).Decode(&s)
				list = append(list, s)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(list)
	})
	return httptest.NewServer(mux)
}
