package main

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/backend/postgres/pgtest"
	"switchboard/backend/secret"
)

// lockedBuffer is an io.Writer safe for the command's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// serveOnce runs `switchboard serve` on dir (and more arguments) until the
// engine is listening, then stops it, and returns what it printed.
func serveOnce(t *testing.T, dir string, more ...string) string {
	t.Helper()
	var out lockedBuffer
	listening := make(chan struct{})
	code := run(append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir}, more...), nil, &out, &out, func() { close(listening) })
	select {
	case <-listening:
	case <-time.After(30 * time.Second):
		t.Fatalf("serve never listened: %s", out.String())
	}
	if code != 0 {
		t.Fatalf("serve exited %d: %s", code, out.String())
	}
	return out.String()
}

// TestServe_NoUsersSaysHowToCreateTheFirst: a fresh engine prints the
// command that creates the first admin; once that ran, it no longer does.
func TestServe_NoUsersSaysHowToCreateTheFirst(t *testing.T) {
	dir := t.TempDir()
	out := serveOnce(t, dir)
	want := "switchboard user add --data " + shellQuote(dir) + " --email you@example.com"
	if !strings.Contains(out, "no users yet") || !strings.Contains(out, want) {
		t.Fatalf("serve on an empty store printed:\n%s\nwant the command %q", out, want)
	}
	var added lockedBuffer
	if code := run([]string{"user", "add", "--data", dir, "--email", "you@example.com", "--name", "You", "--role", "admin"},
		strings.NewReader("a-long-password\n"), &added, &added, nil); code != 0 {
		t.Fatalf("user add: %s", added.String())
	}
	if out := serveOnce(t, dir); strings.Contains(out, "no users yet") {
		t.Fatalf("serve with an admin still says:\n%s", out)
	}
}

// On PostgreSQL the hint names the store's variable, never its URL (it may
// hold a password), and the command it gives creates the admin there.
func TestServe_NoUsersOnPostgreSQLSaysHowToCreateTheFirst(t *testing.T) {
	url := pgtest.NewDatabase(t)
	t.Setenv("SWITCHBOARD_SECRET_KEY", secret.MustNew().Text())
	out := serveOnce(t, t.TempDir(), "--store", url)
	want := `switchboard user add --store "$SWITCHBOARD_STORE" --email you@example.com`
	if !strings.Contains(out, "no users yet") || !strings.Contains(out, want) || strings.Contains(out, url) {
		t.Fatalf("serve on an empty PostgreSQL store printed:\n%s\nwant the command %q and not the URL", out, want)
	}
	t.Setenv("SWITCHBOARD_STORE", url)
	var added lockedBuffer
	if code := run([]string{"user", "add", "--data", t.TempDir(), "--email", "you@example.com", "--name", "You", "--role", "admin"},
		strings.NewReader("a-long-password\n"), &added, &added, nil); code != 0 {
		t.Fatalf("user add: %s", added.String())
	}
	if out := serveOnce(t, t.TempDir(), "--store", url); strings.Contains(out, "no users yet") {
		t.Fatalf("serve with an admin still says:\n%s", out)
	}
}

// TestBrowser_NoKeyringSaysWhatToDo: browser mode without a Secret Service
// stops at once and names what to install and run.
func TestBrowser_NoKeyringSaysWhatToDo(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/switchboard-test-bus")
	var out lockedBuffer
	code := run([]string{"browser", "--data", t.TempDir()}, nil, &out, &out, func() { t.Error("browser mode started without a keyring") })
	if code == 0 || !strings.Contains(out.String(), "apt-get install gnome-keyring") || !strings.Contains(out.String(), "dbus-run-session") {
		t.Fatalf("exit %d, printed:\n%s", code, out.String())
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"/tmp/data": "/tmp/data", "my data": "'my data'", "it's": `'it'\''s'`, "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
