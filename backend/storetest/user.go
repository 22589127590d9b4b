package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
)

func testAuthenticate(t *testing.T, h harness) {
	ctx := context.Background()
	c := &clock{}
	db := h.openClock(t, c, Options{})
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
	c.set(time.Now().Add(31 * 24 * time.Hour))
	if _, err := db.SessionByToken(ctx, token); backend.ErrorCode(err) != backend.EUnauthorized {
		t.Fatalf("expired session err = %v", err)
	}
	c.set(time.Time{})
	if err := db.RevokeToken(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByToken(ctx, token); backend.ErrorCode(err) != backend.EUnauthorized {
		t.Fatalf("revoked session err = %v", err)
	}
}

func testSessions(t *testing.T, h harness) {
	ctx := context.Background()
	c := &clock{}
	c.set(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	db := h.openClock(t, c, Options{SessionIdle: time.Hour, SessionMaxAge: 3 * time.Hour})
	u := &backend.User{Name: "Ada", Email: "ada@example.com", Role: backend.RoleAgent}
	if err := db.CreateUser(ctx, u, "correct horse"); err != nil {
		t.Fatal(err)
	}
	login := func() (string, string) {
		token, _, err := db.Authenticate(ctx, "ada@example.com", "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		s, err := db.SessionByToken(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		return token, s.ID
	}
	refused := func(token, why string) {
		t.Helper()
		_, err := db.SessionByToken(ctx, token)
		if backend.ErrorCode(err) != backend.EUnauthorized || !strings.Contains(backend.ErrorMessage(err), why) {
			t.Fatalf("session err = %v, want unauthorized mentioning %q", err, why)
		}
	}
	used, usedID := login()
	idle, idleID := login()
	_, checkedID := login()
	for i := 0; i < 2; i++ {
		c.add(50 * time.Minute)
		if _, err := db.SessionByToken(ctx, used); err != nil {
			t.Fatal(err)
		}
		if invalid, err := db.CheckSessions(ctx, []string{checkedID}); err != nil || len(invalid) != 0 {
			t.Fatalf("check renews: %v %v", invalid, err)
		}
	}
	refused(idle, "without use")
	c.add(90 * time.Minute) // 3h10 after sign-in
	refused(used, "expired")
	if invalid, _ := db.CheckSessions(ctx, []string{checkedID, idleID, usedID}); len(invalid) != 3 {
		t.Fatalf("invalid sessions = %v", invalid)
	}
	if n, err := db.PurgeSessions(ctx); err != nil || n != 3 {
		t.Fatalf("purged %d, %v", n, err)
	}

	// Revocations name the sessions they end.
	a, aID := login()
	b, _ := login()
	if n, err := db.RevokeUserSessions(ctx, u.ID, aID, "signed out everywhere"); err != nil || n != 1 {
		t.Fatalf("revoked %d, %v", n, err)
	}
	refused(b, "not valid")
	if _, err := db.SessionByToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	seq, _ := db.LastSeq(ctx)
	if _, err := db.SetUserDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	refused(a, "not valid")
	events, _ := db.EventsSince(ctx, seq, 10)
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	if strings.Join(types, ",") != "session.revoked,user.upserted" {
		t.Fatalf("disabling appended %v", types)
	}
	if _, _, err := db.Authenticate(ctx, "ada@example.com", "correct horse"); backend.ErrorCode(err) != backend.EForbidden {
		t.Fatalf("a disabled user signs in: %v", err)
	}
	if _, _, err := db.Authenticate(ctx, "ada@example.com", strings.Repeat("x", 80)); backend.ErrorCode(err) != backend.EUnauthorized {
		t.Fatalf("an over-long password: %v", err)
	}
	if err := db.ResetPassword(ctx, u.ID, strings.Repeat("x", 73)); backend.ErrorCode(err) != backend.EInvalid || !strings.Contains(backend.ErrorMessage(err), "72 bytes") {
		t.Fatalf("reset to a 73-byte password: %v", err)
	}
}

func testCannedResponses(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
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
