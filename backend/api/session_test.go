package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend"
	"switchboard/backend/api"
	"switchboard/backend/sqlite"
)

// expectClosed waits up to a second for the engine to close conn because
// its session ended.
func expectClosed(t *testing.T, conn *websocket.Conn, what string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(time.Second))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue // events sent before the close
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != api.CloseSessionEnded {
			t.Fatalf("%s: the socket was not closed for its ended session within a second: %v", what, err)
		}
		return
	}
}

// expectOpen checks that conn still gets events: the next one stored.
func expectOpen(t *testing.T, e *testEngine, conn *websocket.Conn, what string) {
	t.Helper()
	last, _ := e.DB.LastSeq(context.Background())
	storeN(t, e, fmt.Sprintf("open-%d", last), 1)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var f api.Frame
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("%s: the socket closed: %v", what, err)
		}
		if f.Next > last {
			return
		}
	}
}

func TestSession_SignOutClosesItsSocketWithinASecond(t *testing.T) {
	e := MustStartEngine(t)
	first, second := e.SignIn(t, "admin@example.com"), e.SignIn(t, "admin@example.com")
	a, b := dialFeed(t, e, first, 0), dialFeed(t, e, second, 0)
	if st := e.Do(t, first, "POST", "/api/auth/signout", "", nil); st != 204 {
		t.Fatalf("sign out: %d", st)
	}
	expectClosed(t, a, "signed-out session")
	expectOpen(t, e, b, "the other session")
	if st := e.Do(t, first, "GET", "/api/me", "", nil); st != 401 {
		t.Fatalf("the signed-out token still works: %d", st)
	}
}

func TestSession_PasswordChangeEndsTheOtherSessions(t *testing.T) {
	e := MustStartEngine(t)
	here, there := e.SignIn(t, "agent@example.com"), e.SignIn(t, "agent@example.com")
	away := dialFeed(t, e, there, 0)
	var resp api.ErrorResponse
	if st := e.Do(t, here, "POST", "/api/me/password", `{"current":"wrong one","new":"new password"}`, &resp); st != 403 || !strings.Contains(resp.Error.Message, "current password") {
		t.Fatalf("wrong current password: %d %+v", st, resp)
	}
	if st := e.Do(t, here, "POST", "/api/me/password", `{"current":"password1","new":"short"}`, &resp); st != 400 {
		t.Fatalf("too short a password: %d %+v", st, resp)
	}
	if st := e.Do(t, here, "POST", "/api/me/password", `{"current":"password1","new":"new password"}`, nil); st != 204 {
		t.Fatalf("change password: %d", st)
	}
	expectClosed(t, away, "the other session")
	if st := e.Do(t, there, "GET", "/api/me", "", nil); st != 401 {
		t.Fatalf("the other session still works: %d", st)
	}
	if st := e.Do(t, here, "GET", "/api/me", "", nil); st != 200 {
		t.Fatalf("the session that changed the password ended: %d", st)
	}
	if st := e.Do(t, "", "POST", "/api/auth/signin", `{"email":"agent@example.com","password":"password1"}`, nil); st != 401 {
		t.Fatalf("the old password still signs in: %d", st)
	}
	if st := e.Do(t, "", "POST", "/api/auth/signin", `{"email":"agent@example.com","password":"new password"}`, nil); st != 200 {
		t.Fatalf("the new password does not sign in: %d", st)
	}
}

func TestSession_AdminDisablesResetsAndSignsOutEverywhere(t *testing.T) {
	ctx := context.Background()
	e := MustStartEngine(t)
	r := MustStartRouting(t, e)
	var agent *backend.User
	users, _ := e.DB.FindUsers(ctx)
	for _, u := range users {
		if u.Role == backend.RoleAgent {
			agent = u
		}
	}
	if _, err := r.UpsertWorker(ctx, &backend.Worker{UserID: agent.ID, Name: "Agent", Activity: backend.ActivityAvailable}); err != nil {
		t.Fatal(err)
	}
	admin := e.SignIn(t, "admin@example.com")
	userPath := "/api/users/" + agent.ID

	// Sign out everywhere: both of the agent's sockets close.
	one, two := dialFeed(t, e, e.SignIn(t, "agent@example.com"), 0), dialFeed(t, e, e.SignIn(t, "agent@example.com"), 0)
	var out api.SignOutResponse
	if st := e.Do(t, admin, "POST", userPath+"/signout", "", &out); st != 200 || out.Sessions != 2 {
		t.Fatalf("sign out everywhere: %d %+v", st, out)
	}
	expectClosed(t, one, "first session")
	expectClosed(t, two, "second session")

	// Reset: the old password stops working, sessions end.
	token := e.SignIn(t, "agent@example.com")
	conn := dialFeed(t, e, token, 0)
	if st := e.Do(t, admin, "POST", userPath+"/password", `{"password":"reset by admin"}`, nil); st != 204 {
		t.Fatalf("reset: %d", st)
	}
	expectClosed(t, conn, "after a reset")
	if st := e.Do(t, "", "POST", "/api/auth/signin", `{"email":"agent@example.com","password":"reset by admin"}`, nil); st != 200 {
		t.Fatalf("sign in with the reset password: %d", st)
	}

	// Disable: sessions end, sign-in is refused, the worker goes offline.
	token = loginAs(t, e, "agent@example.com", "reset by admin")
	conn = dialFeed(t, e, token, 0)
	var u backend.User
	if st := e.Do(t, admin, "POST", userPath+"/disable", "", &u); st != 200 || !u.Disabled {
		t.Fatalf("disable: %d %+v", st, u)
	}
	expectClosed(t, conn, "after disabling")
	var resp api.ErrorResponse
	if st := e.Do(t, token, "GET", "/api/me", "", &resp); st != 401 {
		t.Fatalf("a disabled user's token: %d", st)
	}
	if st := e.Do(t, "", "POST", "/api/auth/signin", `{"email":"agent@example.com","password":"reset by admin"}`, &resp); st != 403 || !strings.Contains(resp.Error.Message, "disabled") {
		t.Fatalf("a disabled user signing in: %d %+v", st, resp)
	}
	if w, _ := r.WorkerByUserID(ctx, agent.ID); w.Available {
		t.Fatalf("a disabled user's worker still takes offers: %+v", w)
	}
	var me backend.User
	e.Do(t, admin, "GET", "/api/me", "", &me)
	if st := e.Do(t, admin, "POST", "/api/users/"+me.ID+"/disable", "", &resp); st != 400 {
		t.Fatalf("an admin disabling themselves: %d", st)
	}
	var enabled backend.User
	if st := e.Do(t, admin, "POST", userPath+"/enable", "", &enabled); st != 200 || enabled.Disabled || enabled.ID != agent.ID {
		t.Fatalf("enable: %d %+v", st, enabled)
	}
	loginAs(t, e, "agent@example.com", "reset by admin")
}

func loginAs(t *testing.T, e *testEngine, email, password string) string {
	t.Helper()
	var resp api.SignInResponse
	if st := e.Do(t, "", "POST", "/api/auth/signin", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password), &resp); st != 200 {
		t.Fatalf("sign in %s: %d", email, st)
	}
	return resp.Token
}

func TestSession_TokenInTheAddressOnlyForTheLiveFeed(t *testing.T) {
	e := MustStartEngine(t)
	token := e.SignIn(t, "admin@example.com")
	var resp api.ErrorResponse
	if st := e.Do(t, "", "GET", "/api/me?access_token="+token, "", &resp); st != 401 || !strings.Contains(resp.Error.Message, "Authorization header") {
		t.Fatalf("token in the address of an API call: %d %+v", st, resp)
	}
	url := strings.Replace(e.URL, "http://", "ws://", 1) + "/api/ws?since=0&access_token=" + token
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("the live feed refuses its token in the address: %v", err)
	}
	conn.Close()
}

func TestSession_IdleAndAbsoluteExpiry(t *testing.T) {
	ctx := context.Background()
	clock := backend.NewFakeClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	e := MustStartEngineWith(t, func(db *sqlite.DB, s *api.Server) {
		db.Now, s.Clock = clock.Now, clock
		db.SessionIdle, db.SessionMaxAge = 2*time.Hour, 8*time.Hour
	})
	idle := e.SignIn(t, "agent@example.com")
	used := e.SignIn(t, "admin@example.com")
	watching := e.SignIn(t, "admin@example.com")
	conn := dialFeed(t, e, watching, 0)
	// The hub takes a socket in after the upgrade; only a socket it took in
	// renews its session, so wait until one event arrived before the clock
	// moves.
	expectOpen(t, e, conn, "a new session's socket")

	// Called every hour, one session lives; with an open socket and no
	// call, another does too (the live feed renews it); unused, the
	// agent's ends after two hours.
	for h := 1; h <= 3; h++ {
		clock.Advance(time.Hour)
		if st := e.Do(t, used, "GET", "/api/me", "", nil); st != 200 {
			t.Fatalf("a session in use ended after %d hours: %d", h, st)
		}
	}
	var resp api.ErrorResponse
	if st := e.Do(t, idle, "GET", "/api/me", "", &resp); st != 401 {
		t.Fatalf("an idle session after 3 hours: %d %+v", st, resp)
	}
	expectOpen(t, e, conn, "a socket of a session in use")
	if st := e.Do(t, watching, "GET", "/api/me", "", nil); st != 200 {
		t.Fatalf("a session kept by its socket ended after 3 hours: %d", st)
	}

	// Eight hours after sign-in the session ends however much it is used,
	// and the live feed closes its socket at its next check.
	for h := 4; h < 8; h++ {
		clock.Advance(time.Hour)
		if st := e.Do(t, used, "GET", "/api/me", "", nil); st != 200 {
			t.Fatalf("a session in use ended after %d hours: %d", h, st)
		}
	}
	clock.Advance(time.Hour)
	if st := e.Do(t, used, "GET", "/api/me", "", &resp); st != 401 {
		t.Fatalf("a session past its absolute limit: %d %+v", st, resp)
	}
	expectClosed(t, conn, "a socket of an expired session")

	// The hourly purge deleted the expired sessions.
	var n int
	e.DB.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d expired sessions left after the purge", n)
	}
}

// syncBuffer is a log destination tests read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSignIn_ThrottledPerAccountAndPerClient(t *testing.T) {
	ctx := context.Background()
	clock := backend.NewFakeClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	logs := &syncBuffer{}
	e := MustStartEngineWith(t, func(db *sqlite.DB, s *api.Server) {
		db.Now, s.Clock = clock.Now, clock
		s.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	signIn := func(email, password string) (int, http.Header, api.ErrorResponse) {
		var resp api.ErrorResponse
		req, _ := http.NewRequest("POST", e.URL+"/api/auth/signin", strings.NewReader(fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		decodeBody(t, res, &resp)
		return res.StatusCode, res.Header, resp
	}
	const guess = "guess-1234-wrong"
	for i := 0; i < 5; i++ {
		if st, _, _ := signIn("agent@example.com", guess); st != 401 {
			t.Fatalf("wrong password %d: %d", i+1, st)
		}
	}
	st, h, resp := signIn("agent@example.com", "password1")
	if st != 429 || h.Get("Retry-After") != "900" || !strings.Contains(resp.Error.Message, "900 seconds") {
		t.Fatalf("the right password after 5 wrong ones: %d Retry-After=%q %+v", st, h.Get("Retry-After"), resp)
	}
	if st, _, _ := signIn("admin@example.com", "password1"); st != 200 {
		t.Fatalf("another account from the same address: %d", st)
	}
	clock.Advance(10 * time.Minute)
	if _, h, _ := signIn("agent@example.com", "password1"); h.Get("Retry-After") != "300" {
		t.Fatalf("Retry-After ten minutes on: %q", h.Get("Retry-After"))
	}
	clock.Advance(5 * time.Minute)
	if st, _, _ := signIn("agent@example.com", "password1"); st != 200 {
		t.Fatalf("after the window: %d", st)
	}

	// One address guessing across many accounts is stopped too.
	for i := 0; i < 20; i++ {
		signIn(fmt.Sprintf("nobody%d@example.com", i), guess)
	}
	if st, _, _ := signIn("admin@example.com", "password1"); st != 429 {
		t.Fatalf("after 20 failures from one address: %d", st)
	}
	if out := logs.String(); !strings.Contains(out, "sign-in refused") || !strings.Contains(out, "sign-in throttled") || strings.Contains(out, guess) {
		t.Fatalf("the log must record failures and never the password:\n%s", out)
	}
	_ = ctx
}

func TestPasswords_LongerThanBcryptTakesAreRefusedWithASentence(t *testing.T) {
	e := MustStartEngine(t)
	admin := e.SignIn(t, "admin@example.com")
	long := strings.Repeat("p", 73)
	for _, tc := range []struct{ name, token, path, body string }{
		{"create user", admin, "/api/users", `{"name":"L","email":"l@example.com","role":"agent","password":"` + long + `"}`},
		{"sign in", "", "/api/auth/signin", `{"email":"admin@example.com","password":"` + long + `"}`},
		{"change own", admin, "/api/me/password", `{"current":"password1","new":"` + long + `"}`},
	} {
		var resp api.ErrorResponse
		if st := e.Do(t, tc.token, "POST", tc.path, tc.body, &resp); st != 400 || !strings.Contains(resp.Error.Message, "72 bytes") || !strings.HasSuffix(resp.Error.Message, ".") {
			t.Errorf("%s with a 73-byte password: %d %+v", tc.name, st, resp)
		}
	}
}

func decodeBody(t *testing.T, res *http.Response, v any) {
	t.Helper()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("decode %s: %v", res.Status, err)
	}
}
