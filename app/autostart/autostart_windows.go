package autostart

import (
	"errors"
	"strings"

	"golang.org/x/sys/windows/registry"
)

const runKey = `Software\Microsoft\Windows\CurrentVersion\Run`

// Path names the registry value the entry lives in.
func (a Autostart) Path() (string, error) { return `HKCU\` + runKey + `\` + a.ID, nil }

// Enable adds the program to the user's Run key.
func (a Autostart) Enable() error {
	if len(a.Exec) == 0 {
		return errors.New("autostart: no program to start")
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	args := make([]string, len(a.Exec))
	for i, arg := range a.Exec {
		args[i] = `"` + strings.ReplaceAll(arg, `"`, `\"`) + `"`
	}
	return k.SetStringValue(a.ID, strings.Join(args, " "))
}

// Disable removes the program from the Run key; it is not an error when it
// is not there.
func (a Autostart) Disable() error {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return nil
	}
	defer k.Close()
	if err := k.DeleteValue(a.ID); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return err
	}
	return nil
}

// Enabled reports whether the Run key names the program.
func (a Autostart) Enabled() (bool, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if err != nil {
		return false, nil
	}
	defer k.Close()
	_, _, err = k.GetStringValue(a.ID)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
