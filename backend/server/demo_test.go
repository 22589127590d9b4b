package server_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/server"
)

// TestDemo: the demo workspace keeps what the README promises: Ana, signed
// in on her own, has a live offer for the waiting web chat visitor; the
// seeded conversations carry the times they happened, hours ago; the web
// chat conversation belongs to the widget instance that exists.
func TestDemo(t *testing.T) {
	ctx := context.Background()
	e, err := server.Open(ctx, server.Config{DataDir: t.TempDir(), Demo: true, PasswordCost: 4, SecretKey: secret.MustNew(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	users, _ := e.DB.FindUsers(ctx)
	workers := map[string]*backend.Worker{}
	for _, u := range users {
		if w, err := e.Routing.WorkerByUserID(ctx, u.ID); err == nil {
			workers[u.Email] = w
		}
	}
	ana, ben := workers["ana@example.com"], workers["ben@example.com"]
	if ana == nil || ben == nil || !ana.Available || !ben.Available {
		t.Fatalf("demo workers: %+v", workers)
	}
	convs, err := e.DB.FindConversations(ctx, backend.ConversationFilter{})
	if err != nil || len(convs) != 7 {
		t.Fatalf("conversations: %d %v", len(convs), err)
	}
	var web *backend.Conversation
	for _, c := range convs {
		if c.Channel == "webchat" {
			web = c
		} else if age := time.Since(c.LastMessageAt); age < 40*time.Minute || age > 3*time.Hour+time.Minute {
			t.Errorf("%s conversation last active %v ago; the demo spreads them over the last three hours", c.Channel, age.Round(time.Minute))
		}
	}
	if web == nil {
		t.Fatal("no web chat conversation")
	}
	if ci, err := e.DB.FindChannelInstance(ctx, "webchat", web.Instance); err != nil || !ci.Enabled {
		t.Fatalf("the web chat conversation's instance %q: %v", web.Instance, err)
	}
	// The web chat's flow hands the visitor to a person once the engine runs.
	var offered string
	deadline := time.Now().Add(20 * time.Second)
	for offered == "" && time.Now().Before(deadline) {
		offers, err := e.Routing.Reservations(ctx, ana.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range offers {
			if r.State == backend.ReservationPending {
				task, _ := e.Routing.Task(ctx, r.TaskID)
				offered = task.ConversationID
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if offered != web.ID {
		t.Fatalf("Ana's offer is for %q, want the web chat %s", offered, web.ID)
	}
	if st, _ := e.Routing.WorkerStats(ctx, ben.ID); st.Load[backend.ChannelChat] != 3 {
		t.Fatalf("Ben holds %v", st.Load)
	}
}

// TestDemo_WithoutSecretKey: `serve --demo` without a secret key seeds the
// workspace without the web chat instance, whose configuration would be
// sealed, instead of failing to start.
func TestDemo_WithoutSecretKey(t *testing.T) {
	ctx := context.Background()
	e, err := server.Open(ctx, server.Config{DataDir: t.TempDir(), Demo: true, PasswordCost: 4, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if users, err := e.DB.FindUsers(ctx); err != nil || len(users) != len(server.DemoUsers) {
		t.Fatalf("demo users: %d %v", len(users), err)
	}
	if has, err := e.DB.HasSecrets(ctx); err != nil || has {
		t.Fatalf("a keyless demo store holds secrets: %v %v", has, err)
	}
}
