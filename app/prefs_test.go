package app

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/app/applog"
	"switchboard/app/autostart"
	"switchboard/app/cache"
	"switchboard/app/keychain"
	"switchboard/app/settings"
	"switchboard/backend"
	"switchboard/backend/server"
)

func TestSettings_SurviveARestartOfTheApp(t *testing.T) {
	dir, config := t.TempDir(), t.TempDir()
	entry := &autostart.Autostart{ID: "switchboard", Name: "Switchboard", Exec: []string{"/usr/bin/switchboard"}, Dir: t.TempDir()}
	open := func() *App {
		a := New(Config{DataDir: dir, ConfigDir: config, Autostart: entry, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, "browser")
		t.Cleanup(a.shutdown)
		return a
	}
	a := open()
	want := settings.Settings{ServerURL: "https://cc.example.com", Audio: settings.Audio{Input: "USB Headset Mic", Output: "USB Headset", Ringing: "Speakers"},
		Sound: true, Theme: "dark", Language: "es", StartAtLogin: true}
	saved, err := a.SaveSettings(want)
	if err != nil || saved != want {
		t.Fatalf("SaveSettings = %+v, %v", saved, err)
	}
	if on, _ := entry.Enabled(); !on {
		t.Fatal("start at login did not write the autostart entry")
	}

	a.shutdown()
	b := open()
	info, err := b.Ready()
	if err != nil || info.Settings != want {
		t.Fatalf("after a restart Ready gives %+v, %v; want %+v", info.Settings, err, want)
	}

	// Switched off in the desktop's own startup settings: the app says so.
	if err := entry.Disable(); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Settings(); got.StartAtLogin {
		t.Fatal("StartAtLogin still on after the entry was removed")
	}
	want.StartAtLogin = false
	if _, err := b.SaveSettings(want); err != nil {
		t.Fatal(err)
	}
}

func TestSaveSettings_RefusesAndChangesNothing(t *testing.T) {
	config := t.TempDir()
	a := New(Config{DataDir: t.TempDir(), ConfigDir: config, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, "browser")
	bad := settings.Defaults()
	bad.Theme = "neon"
	_, err := a.SaveSettings(bad)
	if ue, ok := err.(*uiError); !ok || ue.Code != backend.EInvalid || !strings.Contains(ue.Message, "theme") {
		t.Fatalf("got %v, want an invalid error about the theme", err)
	}
	// No autostart entry can be written in this run: refused, file untouched.
	on := settings.Defaults()
	on.StartAtLogin = true
	if _, err := a.SaveSettings(on); err == nil || !strings.Contains(err.Error(), "start-at-login") && !strings.Contains(err.Error(), "Starting at login") {
		t.Fatalf("got %v, want start at login refused", err)
	}
	if _, err := os.Stat(filepath.Join(config, settings.FileName)); !os.IsNotExist(err) {
		t.Fatalf("a refused save wrote the settings file: %v", err)
	}
}

// TestCopyDiagnostics_HasWhatSupportNeedsAndNoSecrets signs in, logs, and
// checks the report: version and commit, system, settings, connection, the
// last log lines; and neither the session token nor the password.
func TestCopyDiagnostics_HasWhatSupportNeedsAndNoSecrets(t *testing.T) {
	requireKeyring(t)
	logFile, err := applog.Open(t.TempDir(), applog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	a := New(Config{DataDir: t.TempDir(), ConfigDir: t.TempDir(), Demo: true, PasswordCost: 4, Log: logFile,
		KeyringService: "switchboard-test-" + filepath.Base(t.TempDir()),
		Logger:         slog.New(slog.NewTextHandler(logFile, nil))}, "browser")
	defer a.shutdown()
	var copied string
	a.setClipboard(func(text string) error { copied = text; return nil })
	if _, err := a.SignIn(SignInRequest{Email: "ana@example.com", Password: server.DemoPassword}); err != nil {
		t.Fatal(err)
	}
	a.log.Info("a line support wants to see", "n", 42)
	a.log.Info("careless line", "token", "should-not-leak")
	d, err := a.CopyDiagnostics()
	if err != nil || !d.Copied || copied != d.Text {
		t.Fatalf("copied=%v err=%v clipboard holds %d bytes", d.Copied, err, len(copied))
	}
	for _, want := range []string{Build().String(), "agent on this computer", `"theme": "system"`, "a line support wants to see", "Last "} {
		if !strings.Contains(d.Text, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, d.Text)
		}
	}
	token, err := keychain.New(a.cfg.KeyringService).Get(account{Server: embeddedServer, Email: "ana@example.com"}.keyringKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{token, "should-not-leak"} {
		if strings.Contains(d.Text, secret) {
			t.Errorf("diagnostics contain a secret %q", secret)
		}
	}
}

func TestSyncStatus_SaysWhenItRetriesAndWhatWaits(t *testing.T) {
	requireKeyring(t)
	a := newTestApp(t, t.TempDir())
	if _, err := a.SignIn(SignInRequest{Email: "ana@example.com", Password: server.DemoPassword}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "online", func() bool { st, _ := a.SyncStatus(); return st.State == cache.StateOnline })
	list, err := a.Conversations(cache.Filter{Scope: cache.ScopeMine})
	if err != nil || len(list) == 0 {
		t.Fatalf("no conversation of ana's: %v", err)
	}
	a.mu.Lock()
	a.engine.Close() // the engine goes away
	a.mu.Unlock()
	waitFor(t, "a scheduled retry", func() bool { st, _ := a.SyncStatus(); return st.RetryAt != "" })
	if _, err := a.SendReply(list[0].ID, "written while the engine is away"); err != nil {
		t.Fatal(err)
	}
	st, err := a.SyncStatus()
	if err != nil || st.State == cache.StateOnline || st.Pending != 1 || st.Attempt < 1 || st.LastError == "" {
		t.Fatalf("status %+v, %v; want not online, 1 waiting, an attempt and a reason", st, err)
	}
	if at, err := time.Parse(time.RFC3339Nano, st.RetryAt); err != nil || at.Before(time.Now().Add(-time.Minute)) {
		t.Fatalf("retryAt %q: %v", st.RetryAt, err)
	}
	if err := a.ReconnectNow(); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
