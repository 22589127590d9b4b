package sqlite_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
)

func TestSessions_IdleAbsoluteRevokedAndPurged(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	db.SessionIdle, db.SessionMaxAge = time.Hour, 3*time.Hour
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
	checked, checkedID := login()
	for i := 0; i < 2; i++ {
		now = now.Add(50 * time.Minute)
		if _, err := db.SessionByToken(ctx, used); err != nil {
			t.Fatal(err)
		}
		if invalid, err := db.CheckSessions(ctx, []string{checkedID}); err != nil || len(invalid) != 0 {
			t.Fatalf("check renews: %v %v", invalid, err)
		}
	}
	refused(idle, "without use")
	now = now.Add(90 * time.Minute) // 3h10 after sign-in
	refused(used, "expired")
	if invalid, _ := db.CheckSessions(ctx, []string{checkedID, idleID, usedID}); len(invalid) != 3 {
		t.Fatalf("invalid sessions = %v", invalid)
	}
	if n, err := db.PurgeSessions(ctx); err != nil || n != 3 {
		t.Fatalf("purged %d, %v", n, err)
	}
	_ = checked

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
