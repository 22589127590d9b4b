package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/backend/api"
	"switchboard/backend/secret"
	"switchboard/backend/sqlite"
)

// testEngine is an API server on a real SQLite file, served over loopback.
type testEngine struct {
	DB  *sqlite.DB
	API *api.Server
	URL string
}

func MustStartEngine(tb testing.TB) *testEngine {
	tb.Helper()
	return MustStartEngineWith(tb, nil)
}

// MustStartEngineWith lets setup change the store and the server (clock,
// logger) before the server starts.
func MustStartEngineWith(tb testing.TB, setup func(*sqlite.DB, *api.Server)) *testEngine {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "engine.db"))
	db.PasswordCost = 4
	db.Secrets = secret.MustNew()
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	s := api.NewServer(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if setup != nil {
		setup(db, s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.Start(ctx)
	ts := httptest.NewServer(s)
	tb.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		s.Close()
		cancel()
		db.Close()
	})
	for _, u := range []backend.User{
		{Name: "Admin", Email: "admin@example.com", Role: backend.RoleAdmin},
		{Name: "Agent", Email: "agent@example.com", Role: backend.RoleAgent},
	} {
		if err := db.CreateUser(context.Background(), &u, "password1"); err != nil {
			tb.Fatal(err)
		}
	}
	return &testEngine{DB: db, API: s, URL: ts.URL}
}

func (e *testEngine) SignIn(tb testing.TB, email string) string {
	tb.Helper()
	var resp api.SignInResponse
	status := e.Do(tb, "", "POST", "/api/auth/signin", fmt.Sprintf(`{"email":%q,"password":"password1"}`, email), &resp)
	if status != http.StatusOK {
		tb.Fatalf("sign in %s: status %d", email, status)
	}
	return resp.Token
}

// Do sends a request and decodes a JSON answer into out (when non-nil).
func (e *testEngine) Do(tb testing.TB, token, method, path, body string, out any) int {
	tb.Helper()
	status, raw := e.DoRaw(tb, token, method, path, body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			tb.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return status
}

// DoRaw sends a request and returns the status and the body.
func (e *testEngine) DoRaw(tb testing.TB, token, method, path, body string) (int, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

func TestAPI_BadInput(t *testing.T) {
	e := MustStartEngine(t)
	token := e.SignIn(t, "agent@example.com")
	big := `{"email":"` + strings.Repeat("a", api.DefaultMaxBody) + `","password":"x"}`
	for _, tc := range []struct {
		name, token, method, path, body string
		status                          int
		code, mentions                  string
	}{
		{"wrong password", "", "POST", "/api/auth/signin", `{"email":"agent@example.com","password":"nope"}`, 401, "unauthorized", "email or password is not correct"},
		{"unknown route", "", "GET", "/api/nothing-here", "", 404, "not_found", "/api/nothing-here"},
		{"oversized body", "", "POST", "/api/auth/signin", big, 413, "too_large", "larger than the limit"},
		{"malformed JSON", "", "POST", "/api/auth/signin", `{"email": "a@b.c",`, 400, "invalid", "ends in the middle"},
		{"syntax error", "", "POST", "/api/auth/signin", `{"email" "a"}`, 400, "invalid", "not valid JSON at byte"},
		{"wrong type", "", "POST", "/api/auth/signin", `{"email": 5, "password": "x"}`, 400, "invalid", `Field "email" must be of type string`},
		{"unknown field", "", "POST", "/api/auth/signin", `{"email":"a@b.c","password":"x","admin":true}`, 400, "invalid", `unknown field "admin"`},
		{"empty body", "", "POST", "/api/auth/signin", ``, 400, "invalid", "body is empty"},
		{"no token", "", "GET", "/api/sync", "", 401, "unauthorized", "no bearer token"},
		{"bad token", "forged", "GET", "/api/sync", "", 401, "unauthorized", "not valid"},
		{"agent cannot create users", token, "POST", "/api/users", `{"name":"x","email":"x@example.com","role":"admin","password":"password1"}`, 403, "forbidden", "admin role"},
		{"bad since", token, "GET", "/api/sync?since=abc", "", 400, "invalid", "whole number"},
		{"missing conversation", token, "GET", "/api/conversations/cv_nope/messages", "", 404, "not_found", "cv_nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp api.ErrorResponse
			status := e.Do(t, tc.token, tc.method, tc.path, tc.body, &resp)
			if status != tc.status || resp.Error.Code != tc.code || !strings.Contains(resp.Error.Message, tc.mentions) {
				t.Fatalf("got %d %+v, want %d %s mentioning %q", status, resp.Error, tc.status, tc.code, tc.mentions)
			}
			if !strings.HasSuffix(resp.Error.Message, ".") {
				t.Fatalf("message %q is not a sentence", resp.Error.Message)
			}
		})
	}
}

func TestAPI_SignInSendAndSync(t *testing.T) {
	ctx := context.Background()
	e := MustStartEngine(t)
	in, _, err := e.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: "7", ExternalID: "1", Text: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	// The admin sees and works on every conversation (agents only on
	// theirs: see the authorization and feed tests).
	token := e.SignIn(t, "admin@example.com")
	var me backend.User
	if e.Do(t, token, "GET", "/api/me", "", &me) != 200 || me.Email != "admin@example.com" || me.Role != backend.RoleAdmin {
		t.Fatalf("me = %+v", me)
	}
	var sent backend.Message
	body := `{"text":"Hi there","clientId":"c-1"}`
	if st := e.Do(t, token, "POST", "/api/conversations/"+in.ConversationID+"/messages", body, &sent); st != 201 {
		t.Fatalf("send status %d", st)
	}
	if sent.Status != backend.DeliveryQueued || sent.AuthorName != "Admin" {
		t.Fatalf("sent = %+v", sent)
	}
	var again backend.Message
	if st := e.Do(t, token, "POST", "/api/conversations/"+in.ConversationID+"/messages", body, &again); st != 200 || again.ID != sent.ID {
		t.Fatalf("retry: status %d id %s, want 200 %s", st, again.ID, sent.ID)
	}

	// Page through the feed two events at a time: every event once, in
	// order, each page naming the engine and how far the feed goes.
	id, _ := e.DB.FeedIdentity(ctx)
	last, _ := e.DB.LastSeq(ctx)
	var seqs []int64
	since := int64(0)
	for {
		var page api.SyncResponse
		if st := e.Do(t, token, "GET", fmt.Sprintf("/api/sync?since=%d&limit=2", since), "", &page); st != 200 {
			t.Fatalf("sync status %d", st)
		}
		if page.Engine != id || id.EngineID == "" || page.Head != last {
			t.Fatalf("page names engine %+v head %d, want %+v head %d", page.Engine, page.Head, id, last)
		}
		for _, ev := range page.Events {
			seqs = append(seqs, ev.Seq)
		}
		since = page.Next
		if !page.More {
			break
		}
	}
	if int64(len(seqs)) != last {
		t.Fatalf("synced %d events, store has %d", len(seqs), last)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("seqs = %v", seqs)
		}
	}
	if st := e.Do(t, token, "POST", "/api/auth/signout", "", nil); st != 204 {
		t.Fatalf("sign out status %d", st)
	}
	if st := e.Do(t, token, "GET", "/api/me", "", nil); st != 401 {
		t.Fatalf("after sign out status %d", st)
	}
}

func TestAPI_AdminCreatesUserAndMergesContacts(t *testing.T) {
	ctx := context.Background()
	e := MustStartEngine(t)
	token := e.SignIn(t, "admin@example.com")
	var u backend.User
	if st := e.Do(t, token, "POST", "/api/users", `{"name":"Sup","email":"sup@example.com","role":"supervisor","password":"password1"}`, &u); st != 201 || u.Role != backend.RoleSupervisor {
		t.Fatalf("create user: %d %+v", st, u)
	}
	a, _, _ := e.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: "1", ExternalID: "1", Text: "a"})
	b, _, _ := e.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: "line", Instance: "l", ExternalUserID: "U1", ExternalID: "1", Text: "b"})
	var c backend.Contact
	body, _ := json.Marshal(api.MergeContactsRequest{Into: a.ContactID, From: b.ContactID})
	if st := e.Do(t, token, "POST", "/api/contacts/merge", string(bytes.TrimSpace(body)), &c); st != 200 || len(c.Identities) != 2 {
		t.Fatalf("merge: %d %+v", st, c)
	}
}
