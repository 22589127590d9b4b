package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/app/cache"
	"switchboard/app/keychain"
	"switchboard/backend"
	"switchboard/backend/server"
)

func newTestApp(t *testing.T, dir string) *App {
	t.Helper()
	a := New(Config{DataDir: dir, Demo: true, KeyringService: "switchboard-test-" + filepath.Base(t.TempDir()), PasswordCost: 4,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, "browser")
	t.Cleanup(a.shutdown)
	return a
}

func requireKeyring(t *testing.T) {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if os.Getenv("SWITCHBOARD_REQUIRE_KEYRING") != "" {
			t.Fatal("SWITCHBOARD_REQUIRE_KEYRING is set but there is no D-Bus session bus")
		}
		t.Skip("no D-Bus session bus; make test runs this under dbus-run-session with gnome-keyring")
	}
}

// TestSignIn_TokenOnlyInKeyring signs in to the embedded engine, reads the
// token back from the real Secret Service and checks no file under the data
// directory holds it, in any form the engine could have written.
func TestSignIn_TokenOnlyInKeyring(t *testing.T) {
	requireKeyring(t)
	dir := t.TempDir()
	a := newTestApp(t, dir)
	s, err := a.SignIn(SignInRequest{Email: "ana@example.com", Password: server.DemoPassword})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Embedded || s.User.Role != backend.RoleAgent {
		t.Fatalf("session = %+v", s)
	}
	token, err := keychain.New(a.cfg.KeyringService).Get(account{Server: embeddedServer, Email: "ana@example.com"}.keyringKey())
	if err != nil {
		t.Fatalf("token not in keyring: %v", err)
	}
	if len(token) < 32 {
		t.Fatalf("token %q looks wrong", token)
	}
	// Let the sync write its files, then look at every byte on disk.
	deadline := time.Now().Add(10 * time.Second)
	for st, _ := a.SyncStatus(); st.LastSeq == 0; st, _ = a.SyncStatus() {
		if time.Now().After(deadline) {
			t.Fatal("cache never synced")
		}
		time.Sleep(20 * time.Millisecond)
	}
	files := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files++
		if bytes.Contains(b, []byte(token)) {
			t.Errorf("%s contains the session token", path)
		}
		return nil
	})
	if files < 3 {
		t.Fatalf("only %d files under the data dir; expected the engine db, the cache and account.json", files)
	}

	// A new App on the same directory restores the session from the keyring.
	a.shutdown()
	b := newTestApp(t, dir)
	b.cfg.KeyringService = a.cfg.KeyringService
	b.keychain = a.keychain
	restored, err := b.RestoreSession()
	if err != nil || restored.User.Email != "ana@example.com" {
		t.Fatalf("restore = %+v, %v", restored, err)
	}
	if err := b.SignOut(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.keychain.Get(account{Server: embeddedServer, Email: "ana@example.com"}.keyringKey()); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("token still in keyring after sign out: %v", err)
	}
	if _, err := b.RestoreSession(); err == nil || !strings.Contains(err.Error(), `"not_found"`) {
		t.Fatalf("restore after sign out: %v", err)
	}
}

func TestSignIn_Errors(t *testing.T) {
	requireKeyring(t) // the embedded engine's secret key lives there
	a := newTestApp(t, t.TempDir())
	for _, tc := range []struct {
		name string
		req  SignInRequest
		code string
	}{
		{"wrong password", SignInRequest{Email: "ana@example.com", Password: "nope"}, backend.EUnauthorized},
		{"bad server url", SignInRequest{Server: "ftp:/x", Email: "a@b.c", Password: "x"}, backend.EInvalid},
		{"unreachable server", SignInRequest{Server: "http://127.0.0.1:1", Email: "a@b.c", Password: "x"}, backend.EUnavailable},
		{"missing password", SignInRequest{Email: "a@b.c"}, backend.EInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.SignIn(tc.req)
			var ue uiError
			if err == nil || json.Unmarshal([]byte(err.Error()), &ue) != nil || ue.Code != tc.code || ue.Message == "" {
				t.Fatalf("err = %v, want JSON with code %s", err, tc.code)
			}
		})
	}
}

func TestBrowserBridge(t *testing.T) {
	dist := t.TempDir()
	os.WriteFile(filepath.Join(dist, "index.html"), []byte("<html>switchboard</html>"), 0o644)
	a := newTestApp(t, t.TempDir())
	b, err := ServeBrowser(a, os.DirFS(dist), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	base, token, _ := strings.Cut(b.URL, "/?token=")
	call := func(tok, body string) (int, map[string]json.RawMessage) {
		req, _ := http.NewRequest("POST", base+"/bridge/call", strings.NewReader(body))
		if tok != "" {
			req.Header.Set("X-Bridge-Token", tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]json.RawMessage
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	for _, tc := range []struct {
		name, token, body string
		status            int
		has               string
	}{
		{"no token", "", `{"method":"Ready","args":[]}`, 401, "bridge token"},
		{"wrong token", "x", `{"method":"Ready","args":[]}`, 401, "bridge token"},
		{"ready", token, `{"method":"Ready","args":[]}`, 200, `"mode":"browser"`},
		{"unknown method", token, `{"method":"shutdown","args":[]}`, 404, "no bound method"},
		{"wrong arity", token, `{"method":"Conversation","args":[]}`, 400, "takes 1 arguments"},
		{"wrong type", token, `{"method":"Conversation","args":[5]}`, 400, "is not a string"},
		{"not signed in", token, `{"method":"Conversations","args":[{}]}`, 401, "Sign in first"},
		{"bad json", token, `{"method":`, 400, "not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := call(tc.token, tc.body)
			all, _ := json.Marshal(out)
			if status != tc.status || !strings.Contains(string(all), tc.has) {
				t.Fatalf("got %d %s, want %d containing %q", status, all, tc.status, tc.has)
			}
		})
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("page without token: %d", resp.StatusCode)
	}
	resp, err = http.Get(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "switchboard") {
		t.Fatalf("page with token: %d %q", resp.StatusCode, page)
	}
	// A reload without the token in the URL passes with the cookie set by the first load.
	req, _ := http.NewRequest("GET", base+"/", nil)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reload with cookie: %d", resp.StatusCode)
	}
}

// TestBrowserEvents_ReplayState: a page that subscribes after the
// connection state and a sync were announced still learns both.
func TestBrowserEvents_ReplayState(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	b, err := ServeBrowser(a, os.DirFS(t.TempDir()), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a.emit("offer", map[string]string{"offer": "gone"}) // not a state: not replayed
	a.emit("sync", map[string]int64{"lastSeq": 3})
	a.emit("connection", map[string]string{"state": "online"})
	base, token, _ := strings.Cut(b.URL, "/?token=")
	resp, err := http.Get(base + "/bridge/events?token=" + token)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 256)
	var got string
	deadline := time.Now().Add(5 * time.Second)
	for !(strings.Contains(got, "event: connection") && strings.Contains(got, "event: sync")) && time.Now().Before(deadline) {
		n, err := resp.Body.Read(buf)
		got += string(buf[:n])
		if err != nil {
			break
		}
	}
	if !strings.Contains(got, "event: connection\ndata: {\"state\":\"online\"}") || !strings.Contains(got, "event: sync\ndata: {\"lastSeq\":3}") ||
		strings.Contains(got, "event: offer") {
		t.Fatalf("a late subscriber got %q", got)
	}
}

// TestSession_EndedByTheEngine: when the engine ends the session (here an
// admin signs the agent out everywhere), the app says signed_out, forgets
// the token and asks for the password on the next start; the agent's own
// password change keeps the session going.
func TestSession_EndedByTheEngine(t *testing.T) {
	requireKeyring(t)
	a := newTestApp(t, t.TempDir())
	var mu sync.Mutex
	var states []string
	a.setEmitter(func(name string, data any) {
		if name == "connection" {
			mu.Lock()
			states = append(states, data.(SyncStatus).State)
			mu.Unlock()
		}
	})
	if _, err := a.SignIn(SignInRequest{Email: "ana@example.com", Password: server.DemoPassword}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "online", func() bool { st, _ := a.SyncStatus(); return st.State == cache.StateOnline })
	if err := a.ChangePassword(ChangePasswordRequest{Current: "wrong one", New: "a new password"}); err == nil || !strings.Contains(err.Error(), `"forbidden"`) {
		t.Fatalf("change with a wrong current password: %v", err)
	}
	if err := a.ChangePassword(ChangePasswordRequest{Current: server.DemoPassword, New: "a new password"}); err != nil {
		t.Fatal(err)
	}
	if st, _ := a.SyncStatus(); st.State != cache.StateOnline {
		t.Fatalf("the session that changed the password is %s", st.State)
	}

	ana := userID(t, a, "ana@example.com")
	if _, err := a.engine.DB.RevokeUserSessions(context.Background(), ana, "", "signed out everywhere"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "signed_out", func() bool { mu.Lock(); defer mu.Unlock(); return slices.Contains(states, cache.StateSignedOut) })
	eventually(t, "the session forgotten", func() bool {
		_, err := a.RestoreSession()
		return err != nil && strings.Contains(err.Error(), `"not_found"`)
	})
	if _, err := a.keychain.Get(account{Server: embeddedServer, Email: "ana@example.com"}.keyringKey()); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("the ended session's token is still in the keyring: %v", err)
	}
	if _, err := a.SignIn(SignInRequest{Email: "ana@example.com", Password: "a new password"}); err != nil {
		t.Fatalf("signing in again with the new password: %v", err)
	}
}
