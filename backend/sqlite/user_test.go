package sqlite_test

import (
	"context"
	"testing"
	"time"

	"switchboard/backend"
)

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	u := &backend.User{Name: "Ada", Email: "ada@example.com", Role: backend.RoleAgent}
	if err := db.CreateUser(ctx, u, "correct horse"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &backend.User{Name: "Ada2", Email: "ADA@example.com", Role: backend.RoleAgent}, "another one"); backend.ErrorCode(err) != backend.EConflict {
		t.Fatalf("duplicate email err = %v", err)
	}
	for _, tc := range []struct {
		name, email, password string
		role                  backend.Role
	}{
		{"bad email", "nope", "long enough", backend.RoleAgent},
		{"bad role", "b@example.com", "long enough", "boss"},
		{"short password", "c@example.com", "short", backend.RoleAgent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := db.CreateUser(ctx, &backend.User{Email: tc.email, Role: tc.role}, tc.password)
			if backend.ErrorCode(err) != backend.EInvalid {
				t.Fatalf("err = %v, want invalid", err)
			}
		})
	}
	if _, _, err := db.Authenticate(ctx, "ada@example.com", "wrong"); backend.ErrorCode(err) != backend.EUnauthorized {
		t.Fatalf("wrong password err = %v", err)
	}
	if _, _, err := db.Authenticate(ctx, "nobody@example.com", "whatever"); backend.ErrorCode(err) != backend.EUnauthorized {
		t.Fatalf("unknown email err = %v", err)
	}
	token, got, err := db.Authenticate(ctx, "ada@example.com", "correct horse")
	if err != nil || got.ID != u.ID {
		t.Fatal(got, err)
	}
	s, err := db.SessionByToken(ctx, token)
	if err != nil || s.User.Email != "ada@example.com" || s.User.Role != backend.RoleAgent {
		t.Fatal(s, err)
	}
	db.Now = func() time.Time { return time.Now().Add(31 * 24 * time.Hour) }
	if _, err := db.SessionByToken(ctx, token); backend.ErrorCode(err) != backend.EUnauthorized {
		t.Fatalf("expired session err = %v", err)
	}
	db.Now = time.Now
	if err := db.RevokeToken(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByToken(ctx, token); backend.ErrorCode(err) != backend.EUnauthorized {
		t.Fatalf("revoked session err = %v", err)
	}
}

func TestCannedResponses(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	c := &backend.CannedResponse{Shortcut: "/hello", Title: "Greeting", Text: "Hi {{contact.firstName}}!"}
	if err := db.PutCannedResponse(ctx, c); err != nil || c.Shortcut != "hello" {
		t.Fatal(c, err)
	}
	if err := db.PutCannedResponse(ctx, &backend.CannedResponse{Shortcut: "HELLO", Text: "x"}); backend.ErrorCode(err) != backend.EConflict {
		t.Fatalf("duplicate shortcut: %v", err)
	}
	if err := db.PutCannedResponse(ctx, &backend.CannedResponse{Shortcut: "two words", Text: "x"}); backend.ErrorCode(err) != backend.EInvalid {
		t.Fatalf("bad shortcut: %v", err)
	}
	c.Text = "Hello {{contact.firstName}}!"
	if err := db.PutCannedResponse(ctx, c); err != nil {
		t.Fatal(err)
	}
	list, err := db.FindCannedResponses(ctx)
	if err != nil || len(list) != 1 || list[0].Text != "Hello {{contact.firstName}}!" {
		t.Fatalf("list = %+v, %v", list, err)
	}
}
