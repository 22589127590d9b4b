//go:build !windows && !darwin

package autostart_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"switchboard/app/autostart"
)

func TestXDG_EnableWritesAValidEntryAndDisableRemovesIt(t *testing.T) {
	exe := filepath.Join(t.TempDir(), `My Apps $HOME\100% "new"`, "switchboard")
	a := autostart.Autostart{ID: "switchboard", Name: "Switchboard", Comment: "Start Switchboard when you log in",
		Icon: "switchboard", Exec: []string{exe, "--data", "/tmp/a b"}, Dir: t.TempDir()}
	if on, err := a.Enabled(); err != nil || on {
		t.Fatalf("enabled before Enable: %v %v", on, err)
	}
	if err := a.Enable(); err != nil {
		t.Fatal(err)
	}
	path, _ := a.Path()
	if on, err := a.Enabled(); err != nil || !on {
		t.Fatalf("not enabled after Enable: %v %v", on, err)
	}
	validate(t, path)
	b, _ := os.ReadFile(path)
	var execLine string
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Exec="); ok {
			execLine = v
		}
	}
	if got := parseExec(t, execLine); !slices.Equal(got, a.Exec) {
		t.Fatalf("Exec=%s reads back as %q, want %q", execLine, got, a.Exec)
	}
	if err := a.Disable(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("entry still there: %v", err)
	}
	if err := a.Disable(); err != nil {
		t.Fatalf("disabling twice: %v", err)
	}
}

func TestXDG_EntrySwitchedOffByTheDesktopCountsAsOff(t *testing.T) {
	a := autostart.Autostart{ID: "switchboard", Name: "Switchboard", Exec: []string{"/usr/bin/switchboard"}, Dir: t.TempDir()}
	if err := a.Enable(); err != nil {
		t.Fatal(err)
	}
	path, _ := a.Path()
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), "X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-enabled=false", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if on, err := a.Enabled(); err != nil || on {
		t.Fatalf("an entry the desktop switched off reads as on: %v %v", on, err)
	}
}

// validate runs freedesktop's desktop-file-validate (desktop-file-utils).
func validate(t *testing.T, path string) {
	t.Helper()
	tool, err := exec.LookPath("desktop-file-validate")
	if err != nil {
		t.Fatal("desktop-file-validate is missing: install desktop-file-utils (make test does)")
	}
	if out, err := exec.Command(tool, path).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("desktop-file-validate: %v\n%s", err, out)
	}
}

// parseExec reads an Exec value back into arguments the way the
// specification says a launcher must: string unescaping first, then
// quoting, then %% to %.
func parseExec(t *testing.T, v string) []string {
	t.Helper()
	v = strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\t`, "\t", `\r`, "\r", `\s`, " ").Replace(v)
	var args []string
	var cur strings.Builder
	inQuotes, started := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case inQuotes && c == '\\' && i+1 < len(v):
			i++
			cur.WriteByte(v[i])
		case c == '"':
			inQuotes, started = !inQuotes, true
		case c == ' ' && !inQuotes:
			if started {
				args = append(args, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteByte(c)
			started = true
		}
	}
	if inQuotes {
		t.Fatalf("unterminated quote in %q", v)
	}
	if started {
		args = append(args, cur.String())
	}
	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "%%", "%")
	}
	return args
}
