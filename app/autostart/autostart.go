// Package autostart opens a program when the user logs in: an XDG autostart
// entry on Linux and other freedesktop systems, a LaunchAgent on macOS and
// the Run key of the user's registry on Windows.
package autostart

// Autostart turns starting at login on and off for one program.
type Autostart struct {
	// ID names the entry: the .desktop file, the LaunchAgent label's last
	// part and the registry value (e.g. "switchboard").
	ID string
	// Name is what the desktop shows in its list of startup programs.
	Name string
	// Comment describes the entry (Linux).
	Comment string
	// Icon is the icon name from the icon theme (Linux).
	Icon string
	// Exec is the program's absolute path followed by its arguments.
	Exec []string
	// Dir overrides where the entry is written (tests); by default the
	// user's autostart folder (Linux) or LaunchAgents folder (macOS).
	// Windows keeps the entry in the registry and ignores it.
	Dir string
}
