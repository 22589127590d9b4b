package server_test

import (
	"context"
	"log/slog"
	"testing"

	"switchboard/backend/server"
)

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
