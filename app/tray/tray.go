// Package tray puts Switchboard beside the clock: the app icon with a badge
// counting the agent's unread messages and offers (greyed out while
// offline), a tooltip saying the same, and a menu to open the window,
// switch activity (Available, Break, …) and quit.
//
// Wails v2 has no tray (it arrives in v3), so this uses fyne.io/systray.
// On Linux that speaks the StatusNotifierItem protocol over D-Bus, which
// KDE, Xfce, Cinnamon, MATE, LXQt and GNOME with the AppIndicator extension
// show; a desktop without a tray host simply shows nothing. Other systems
// get no tray from this package (see tray_other.go).
package tray

import (
	"fmt"
	"log/slog"
	"strings"
)

// Activity is an activity the agent can switch to from the menu.
type Activity struct {
	Name      string
	Available bool
}

// State is what the tray shows.
type State struct {
	SignedIn   bool
	Activity   string
	Activities []Activity
	Unread     int
	Offers     int
	// Connection is online, reconnecting, offline or signed_out.
	Connection string
	// Language picks the menu's language ("es…" or English).
	Language string
}

// Tray is the app's tray icon and menu. Start it once; Update may be
// called from any goroutine, before or after Start.
type Tray struct {
	// Icon is the app icon as PNG.
	Icon []byte
	// OnOpen shows the window (the icon was clicked or "Open" chosen).
	OnOpen func()
	// OnActivity switches the agent's activity.
	OnActivity func(name string)
	// OnQuit quits the app.
	OnQuit func()
	Logger *slog.Logger

	impl
}

// maxActivities is how many activities the menu can list.
const maxActivities = 8

// Labels are the menu's and tooltip's words in one language.
type Labels struct {
	Open, Quit, SignedOut, Offline, Reconnecting, Unread, Offer, Offers, Nothing string
}

var labels = map[string]Labels{
	"en": {Open: "Open Switchboard", Quit: "Quit Switchboard", SignedOut: "Not signed in", Offline: "Offline: reconnecting",
		Reconnecting: "Reconnecting…", Unread: "%d unread", Offer: "1 offer waiting", Offers: "%d offers waiting", Nothing: "Nothing unread"},
	"es": {Open: "Abrir Switchboard", Quit: "Salir de Switchboard", SignedOut: "Sin sesión iniciada", Offline: "Sin conexión: reconectando",
		Reconnecting: "Reconectando…", Unread: "%d sin leer", Offer: "1 oferta en espera", Offers: "%d ofertas en espera", Nothing: "Nada sin leer"},
}

// LabelsFor returns the labels for a language tag such as "es-MX".
func LabelsFor(lang string) Labels {
	if l, ok := labels[strings.ToLower(strings.SplitN(strings.SplitN(lang, "_", 2)[0], "-", 2)[0])]; ok {
		return l
	}
	return labels["en"]
}

// Summary is the tooltip's and status line's text for a state.
func Summary(s State, l Labels) string {
	if !s.SignedIn {
		return l.SignedOut
	}
	var parts []string
	if s.Activity != "" {
		parts = append(parts, s.Activity)
	}
	switch s.Connection {
	case "offline":
		parts = append(parts, l.Offline)
	case "reconnecting":
		parts = append(parts, l.Reconnecting)
	}
	if s.Unread > 0 {
		parts = append(parts, fmt.Sprintf(l.Unread, s.Unread))
	}
	switch {
	case s.Offers == 1:
		parts = append(parts, l.Offer)
	case s.Offers > 1:
		parts = append(parts, fmt.Sprintf(l.Offers, s.Offers))
	}
	if s.Unread == 0 && s.Offers == 0 {
		parts = append(parts, l.Nothing)
	}
	return strings.Join(parts, " · ")
}
