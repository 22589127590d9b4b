// Package settings keeps the desktop user's preferences (the team server's
// address, audio devices, notifications and sound, theme, language, start
// at login) in one JSON file in the user's config directory. Nothing secret
// is kept here: the session token lives in the OS keyring.
package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"switchboard/backend"
)

// FileName is the settings file's name inside the config directory.
const FileName = "settings.json"

// Themes are the accepted values of Settings.Theme.
var Themes = []string{"system", "light", "dark"}

// Languages are the UI languages besides "" (follow the system); the
// frontend's i18n tables must have one for each.
var Languages = []string{"en", "es"}

// Settings are the user's preferences.
type Settings struct {
	// ServerURL is the team server the sign-in screen offers ("" for none).
	ServerURL string `json:"serverUrl"`
	// Audio names the softphone's devices.
	Audio Audio `json:"audio"`
	// Notifications shows an OS notification for each new offer.
	Notifications bool `json:"notifications"`
	// Sound plays the offer chime.
	Sound bool `json:"sound"`
	// Theme is "system", "light" or "dark".
	Theme string `json:"theme"`
	// Language is "" (follow the system) or one of Languages.
	Language string `json:"language"`
	// StartAtLogin opens Switchboard when the user logs in.
	StartAtLogin bool `json:"startAtLogin"`
}

// Audio holds the device names the softphone uses; "" means the system's
// default device.
type Audio struct {
	// Input is the microphone.
	Input string `json:"input"`
	// Output is where the call is heard (headset).
	Output string `json:"output"`
	// Ringing is where incoming calls ring (often the speakers).
	Ringing string `json:"ringing"`
}

// Defaults are the settings of a new user.
func Defaults() Settings {
	return Settings{Notifications: true, Sound: true, Theme: "system"}
}

// Validate checks every field and returns an invalid error naming the first
// bad one, in a sentence. It normalizes ServerURL in place.
func (s *Settings) Validate() error {
	if strings.TrimSpace(s.ServerURL) != "" {
		u, err := NormalizeServerURL(s.ServerURL)
		if err != nil {
			return err
		}
		s.ServerURL = u
	} else {
		s.ServerURL = ""
	}
	if !slices.Contains(Themes, s.Theme) {
		return backend.Errorf(backend.EInvalid, "The theme must be one of %s, not %q.", strings.Join(Themes, ", "), s.Theme)
	}
	if s.Language != "" && !slices.Contains(Languages, s.Language) {
		return backend.Errorf(backend.EInvalid, "Switchboard is not translated into %q; choose one of %s.", s.Language, strings.Join(Languages, ", "))
	}
	for _, d := range []struct{ what, name string }{{"microphone", s.Audio.Input}, {"speaker", s.Audio.Output}, {"ringing device", s.Audio.Ringing}} {
		if len(d.name) > 256 || strings.ContainsAny(d.name, "\x00\n\r") {
			return backend.Errorf(backend.EInvalid, "The %s name is not a device name.", d.what)
		}
	}
	return nil
}

// NormalizeServerURL checks a team server's address typed by a person and
// returns it without trailing slashes.
func NormalizeServerURL(raw string) (string, error) {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", backend.Errorf(backend.EInvalid, "%q is not a server address; use one like https://switchboard.example.com.", raw)
	}
	if u.User != nil {
		return "", backend.Errorf(backend.EInvalid, "Leave the user name and password out of the server address; Switchboard asks for them when you sign in.")
	}
	return raw, nil
}

// Store reads and writes the settings file. It is safe for concurrent use.
type Store struct {
	path string

	mu      sync.Mutex
	current Settings
	// broken holds the bytes of a settings file that could not be read,
	// kept beside it as a backup before the first save replaces it.
	broken []byte
}

// Open reads the settings in dir, or starts from Defaults when there is no
// file yet. A file that cannot be parsed also gives Defaults, with an error
// saying so (the caller logs it); the unreadable file is kept as
// settings.json.bak when the settings are next saved.
func Open(dir string) (*Store, error) {
	s := &Store{path: filepath.Join(dir, FileName), current: Defaults()}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	} else if err != nil {
		return s, fmt.Errorf("read settings: %w", err)
	}
	loaded := Defaults()
	if err := json.Unmarshal(b, &loaded); err != nil {
		s.broken = b
		return s, fmt.Errorf("settings file %s is not valid JSON (%v); using the defaults", s.path, err)
	}
	if err := loaded.Validate(); err != nil {
		s.broken = b
		return s, fmt.Errorf("settings file %s: %s Using the defaults", s.path, backend.ErrorMessage(err))
	}
	s.current = loaded
	return s, nil
}

// Path is the settings file's location.
func (s *Store) Path() string { return s.path }

// Get returns the current settings.
func (s *Store) Get() Settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// Save validates next and writes it atomically (a temporary file renamed
// over the old one), so a crash never leaves half a file. It returns the
// settings as saved (normalized), or an invalid error and changes nothing.
func (s *Store) Save(next Settings) (Settings, error) {
	if err := next.Validate(); err != nil {
		return s.Get(), err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return s.current, fmt.Errorf("create settings directory: %w", err)
	}
	if s.broken != nil {
		if err := os.WriteFile(s.path+".bak", s.broken, 0o600); err != nil {
			return s.current, fmt.Errorf("keep the unreadable settings file: %w", err)
		}
		s.broken = nil
	}
	b, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return s.current, err
	}
	if err := writeAtomic(s.path, append(b, '\n')); err != nil {
		return s.current, fmt.Errorf("save settings: %w", err)
	}
	s.current = next
	return next, nil
}

func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".settings-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o600); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
