//go:build !windows && !darwin

package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Path is the .desktop file the entry lives in.
func (a Autostart) Path() (string, error) {
	dir := a.Dir
	if dir == "" {
		config, err := os.UserConfigDir() // $XDG_CONFIG_HOME or ~/.config
		if err != nil {
			return "", fmt.Errorf("find the autostart folder: %w", err)
		}
		dir = filepath.Join(config, "autostart")
	}
	return filepath.Join(dir, a.ID+".desktop"), nil
}

// Enable writes the autostart entry (XDG Autostart Specification).
func (a Autostart) Enable() error {
	path, err := a.Path()
	if err != nil {
		return err
	}
	if len(a.Exec) == 0 {
		return errors.New("autostart: no program to start")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create the autostart folder: %w", err)
	}
	return os.WriteFile(path, []byte(a.desktopEntry()), 0o644)
}

// Disable removes the entry; it is not an error when there is none.
func (a Autostart) Disable() error {
	path, err := a.Path()
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the autostart entry: %w", err)
	}
	return nil
}

// Enabled reports whether the entry exists and is not switched off by the
// desktop (Hidden=true or X-GNOME-Autostart-enabled=false, which the
// desktops' startup-programs settings write instead of deleting).
func (a Autostart) Enabled() (bool, error) {
	path, err := a.Path()
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	for line := range strings.Lines(string(b)) {
		switch strings.TrimSpace(line) {
		case "Hidden=true", "X-GNOME-Autostart-enabled=false":
			return false, nil
		}
	}
	return true, nil
}

func (a Autostart) desktopEntry() string {
	args := make([]string, len(a.Exec))
	for i, arg := range a.Exec {
		args[i] = quoteExecArg(arg)
	}
	var b strings.Builder
	b.WriteString("[Desktop Entry]\nType=Application\n")
	fmt.Fprintf(&b, "Name=%s\n", escapeString(a.Name))
	if a.Comment != "" {
		fmt.Fprintf(&b, "Comment=%s\n", escapeString(a.Comment))
	}
	fmt.Fprintf(&b, "Exec=%s\n", strings.Join(args, " "))
	if a.Icon != "" {
		fmt.Fprintf(&b, "Icon=%s\n", escapeString(a.Icon))
	}
	b.WriteString("Terminal=false\nX-GNOME-Autostart-enabled=true\n")
	return b.String()
}

// execReserved are the characters that make the Desktop Entry
// Specification require an Exec argument to be quoted.
const execReserved = " \t\n\"'\\><~|&;$*?#()`"

// quoteExecArg writes one Exec argument: quoted when it holds a reserved
// character (with ", `, $ and \ escaped inside the quotes), % doubled, and
// then the value's string escaping applied on top (\ becomes \\).
func quoteExecArg(arg string) string {
	arg = strings.ReplaceAll(arg, "%", "%%")
	if arg != "" && !strings.ContainsAny(arg, execReserved) {
		return arg
	}
	var q strings.Builder
	q.WriteByte('"')
	for _, r := range arg {
		if strings.ContainsRune("\"`$\\", r) {
			q.WriteByte('\\')
		}
		q.WriteRune(r)
	}
	q.WriteByte('"')
	return escapeString(q.String())
}

// escapeString applies the specification's escapes for string values.
func escapeString(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(s)
}
