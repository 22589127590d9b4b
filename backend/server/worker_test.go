package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/backend/server"
	"switchboard/backend/sqlite"
)

// TestAgentsBecomeWorkers: an agent added while the engine was down, and
// one an admin adds over the API, can both take tasks.
func TestAgentsBecomeWorkers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := sqlite.NewDB(dir + "/engine.db")
	db.PasswordCost = 4
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	for _, u := range []backend.User{
		{Name: "Offline Added", Email: "early@example.com", Role: backend.RoleAgent},
		{Name: "The Admin", Email: "admin@example.com", Role: backend.RoleAdmin},
	} {
		if err := db.CreateUser(ctx, &u, "password1"); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	e, err := server.Open(ctx, server.Config{DataDir: dir, PasswordCost: 4, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	workers, err := e.Routing.Workers(ctx)
	if err != nil || len(workers) != 1 || workers[0].Name != "Offline Added" || workers[0].Activity != backend.ActivityOffline {
		t.Fatalf("workers = %+v, %v", workers, err)
	}

	resp, err := http.Post(e.URL()+"/api/auth/signin", "application/json", strings.NewReader(`{"email":"admin@example.com","password":"password1"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	jsonDecode(t, resp, &tok)
	req, _ := http.NewRequest("POST", e.URL()+"/api/users", strings.NewReader(`{"name":"New Agent","email":"new@example.com","role":"agent","password":"password1"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var u backend.User
	jsonDecode(t, resp, &u)
	if w, err := e.Routing.WorkerByUserID(ctx, u.ID); err != nil || w.Name != "New Agent" {
		t.Fatalf("worker of the new agent = %+v, %v", w, err)
	}
}
