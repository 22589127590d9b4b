package settings_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/app/settings"
	"switchboard/backend"
)

func mustOpen(tb testing.TB, dir string) *settings.Store {
	tb.Helper()
	s, err := settings.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestOpen_NewUserGetsDefaults(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	if got := s.Get(); got != settings.Defaults() {
		t.Fatalf("got %+v, want the defaults", got)
	}
	if _, err := os.Stat(s.Path()); !os.IsNotExist(err) {
		t.Fatalf("opening wrote a file: %v", err)
	}
}

func TestSave_SurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	want := settings.Settings{
		ServerURL: "https://cc.example.com", Audio: settings.Audio{Input: "USB Headset Mic", Output: "USB Headset", Ringing: "Speakers"},
		Notifications: false, Sound: true, Theme: "dark", Language: "es", StartAtLogin: true,
	}
	saved, err := mustOpen(t, dir).Save(settings.Settings{
		ServerURL: "  https://cc.example.com/ ", Audio: want.Audio, Sound: true, Theme: "dark", Language: "es", StartAtLogin: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if saved != want {
		t.Fatalf("saved %+v, want %+v", saved, want)
	}
	if got := mustOpen(t, dir).Get(); got != want {
		t.Fatalf("after reopening: %+v, want %+v", got, want)
	}
	info, err := os.Stat(filepath.Join(dir, settings.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("settings file mode %v, want 0600", info.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".settings-*")); len(left) != 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
}

func TestSave_RefusesBadInputAndKeepsTheOld(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*settings.Settings)
		says   string
	}{
		{"theme", func(s *settings.Settings) { s.Theme = "purple" }, "theme"},
		{"language", func(s *settings.Settings) { s.Language = "tlh" }, "not translated"},
		{"server scheme", func(s *settings.Settings) { s.ServerURL = "ftp://cc.example.com" }, "not a server address"},
		{"server without host", func(s *settings.Settings) { s.ServerURL = "https://" }, "not a server address"},
		{"server with password", func(s *settings.Settings) { s.ServerURL = "https://ana:secret@cc.example.com" }, "password"},
		{"device name", func(s *settings.Settings) { s.Audio.Input = "mic\nInjected=1" }, "microphone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, dir)
			good := settings.Defaults()
			good.Theme = "light"
			if _, err := s.Save(good); err != nil {
				t.Fatal(err)
			}
			bad := good
			tc.change(&bad)
			_, err := s.Save(bad)
			if backend.ErrorCode(err) != backend.EInvalid || !strings.Contains(backend.ErrorMessage(err), tc.says) {
				t.Fatalf("got %v, want an invalid error mentioning %q", err, tc.says)
			}
			if got := mustOpen(t, dir).Get(); got != good {
				t.Fatalf("the file changed to %+v", got)
			}
		})
	}
}

func TestOpen_UnreadableFileIsKeptAsBackup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, settings.FileName)
	broken := []byte(`{"theme": "dark", "sound": tru`)
	if err := os.WriteFile(path, broken, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := settings.Open(dir)
	if err == nil || !strings.Contains(err.Error(), "using the defaults") {
		t.Fatalf("got %v, want an error saying the defaults are used", err)
	}
	if s.Get() != settings.Defaults() {
		t.Fatalf("got %+v, want the defaults", s.Get())
	}
	if _, err := s.Save(settings.Defaults()); err != nil {
		t.Fatal(err)
	}
	kept, err := os.ReadFile(path + ".bak")
	if err != nil || string(kept) != string(broken) {
		t.Fatalf("backup = %q, %v; want the unreadable file", kept, err)
	}
}

func TestOpen_UnknownFieldsFromANewerVersionAreIgnored(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, settings.FileName), []byte(`{"theme":"dark","sound":false,"notifications":true,"futureOption":42}`), 0o600); err != nil {
		t.Fatal(err)
	}
	got := mustOpen(t, dir).Get()
	if got.Theme != "dark" || got.Sound || !got.Notifications {
		t.Fatalf("got %+v", got)
	}
}
