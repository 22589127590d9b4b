package app

import (
	"context"

	"switchboard/app/settings"
	"switchboard/backend"
)

// currentSettings returns the saved settings, with StartAtLogin read from
// the desktop's own list of startup programs (the user may have switched
// it off there).
func (a *App) currentSettings() settings.Settings {
	s := a.settings.Get()
	if a.cfg.Autostart != nil {
		if on, err := a.cfg.Autostart.Enabled(); err == nil {
			s.StartAtLogin = on
		} else {
			a.log.Warn("read the start-at-login entry", "err", err)
		}
	}
	return s
}

// Settings returns the user's preferences. They belong to the person at
// this computer, not to an account: anyone who can open the app may read
// and change them, signed in or not.
func (a *App) Settings() (settings.Settings, error) {
	return a.currentSettings(), nil
}

// SaveSettings validates and stores the preferences, and adds or removes
// the start-at-login entry when that changed. On any error nothing is
// changed (invalid names the bad field).
func (a *App) SaveSettings(next settings.Settings) (settings.Settings, error) {
	if err := next.Validate(); err != nil {
		return a.currentSettings(), a.toUI(err)
	}
	before := a.currentSettings()
	if next.StartAtLogin != before.StartAtLogin {
		if err := a.setStartAtLogin(next.StartAtLogin); err != nil {
			return before, a.toUI(err)
		}
	}
	saved, err := a.settings.Save(next)
	if err != nil && next.StartAtLogin != before.StartAtLogin {
		a.setStartAtLogin(before.StartAtLogin) // put the entry back as it was
	}
	if err == nil {
		a.log.Info("settings saved", "theme", saved.Theme, "language", saved.Language, "startAtLogin", saved.StartAtLogin)
		a.refreshTray(context.Background()) // its menu follows the language
	}
	return saved, a.toUI(err)
}

func (a *App) setStartAtLogin(on bool) error {
	if a.cfg.Autostart == nil {
		return backend.Errorf(backend.EUnavailable, "Starting at login cannot be changed in this mode.")
	}
	var err error
	if on {
		err = a.cfg.Autostart.Enable()
	} else {
		err = a.cfg.Autostart.Disable()
	}
	if err != nil {
		a.log.Error("start at login", "on", on, "err", err)
		return backend.Errorf(backend.EInternal, "Switchboard could not change its start-at-login entry: %v.", err)
	}
	return nil
}

// AudioDevices lists the devices the softphone can use, by name.
type AudioDevices struct {
	Inputs  []string `json:"inputs"`
	Outputs []string `json:"outputs"`
}

// AudioDevices returns the microphones and speakers the softphone sees;
// both lists are empty when it cannot tell (the settings screen then lets
// the user type a name).
func (a *App) AudioDevices() (AudioDevices, error) {
	out := AudioDevices{Inputs: []string{}, Outputs: []string{}}
	list := a.cfg.AudioDevices
	if list == nil {
		list = a.phoneDevices
	}
	in, outs, err := list()
	if err != nil {
		a.log.Warn("list audio devices", "err", err)
		return out, nil
	}
	out.Inputs, out.Outputs = append(out.Inputs, in...), append(out.Outputs, outs...)
	return out, nil
}
