package autostart

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Path is the LaunchAgent property list the entry lives in.
func (a Autostart) Path() (string, error) {
	dir := a.Dir
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the LaunchAgents folder: %w", err)
		}
		dir = filepath.Join(home, "Library", "LaunchAgents")
	}
	return filepath.Join(dir, a.label()+".plist"), nil
}

func (a Autostart) label() string { return "io.switchboard." + a.ID }

// Enable writes a LaunchAgent that runs the program at login.
func (a Autostart) Enable() error {
	path, err := a.Path()
	if err != nil {
		return err
	}
	if len(a.Exec) == 0 {
		return errors.New("autostart: no program to start")
	}
	var args strings.Builder
	for _, arg := range a.Exec {
		args.WriteString("\t\t<string>")
		xml.EscapeText(&args, []byte(arg))
		args.WriteString("</string>\n")
	}
	plist := `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + a.label() + `</string>
	<key>ProgramArguments</key>
	<array>
` + args.String() + `	</array>
	<key>RunAtLoad</key>
	<true/>
</dict>
</plist>
`
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(plist), 0o644)
}

// Disable removes the LaunchAgent; it is not an error when there is none.
func (a Autostart) Disable() error {
	path, err := a.Path()
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Enabled reports whether the LaunchAgent exists.
func (a Autostart) Enabled() (bool, error) {
	path, err := a.Path()
	if err != nil {
		return false, err
	}
	_, err = os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
