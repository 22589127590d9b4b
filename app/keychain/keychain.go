// Package keychain keeps the desktop's credentials in the operating
// system's keyring (Secret Service on Linux, Keychain on macOS, Credential
// Manager on Windows). Nothing secret is written to disk by Switchboard.
package keychain

import (
	"errors"
	"fmt"

	"github.com/zalando/go-keyring"

	"switchboard/backend"
)

// DefaultService is the keyring service name Switchboard's secrets use.
const DefaultService = "switchboard"

// Keychain stores secrets under one service name.
type Keychain struct {
	Service string
}

// New returns a keychain for service (DefaultService when empty).
func New(service string) *Keychain {
	if service == "" {
		service = DefaultService
	}
	return &Keychain{Service: service}
}

// ReasonNoKeyring marks the error of a keyring that is missing or locked.
const ReasonNoKeyring = "no_keyring"

// Hint says what to install and run when no keyring answers (Linux).
const Hint = "Switchboard keeps your session in the system keyring (the Secret Service), and none answered. " +
	"On Debian or Ubuntu install it with `sudo apt-get install gnome-keyring dbus-x11`; a desktop session starts it for you. " +
	"Without a desktop session, start Switchboard inside a session bus with an unlocked keyring: " +
	"dbus-run-session -- sh -c 'echo -n a-password | gnome-keyring-daemon --unlock --components=secrets; switchboard browser --demo'"

// Set stores secret for account, replacing any previous one.
func (k *Keychain) Set(account, secret string) error {
	if err := keyring.Set(k.Service, account, secret); err != nil {
		return backend.ReasonErrorf(backend.EUnavailable, ReasonNoKeyring, "The system keyring did not store a secret (%v). %s", err, Hint)
	}
	return nil
}

// Check reports whether a keyring answers, with Hint when none does.
func (k *Keychain) Check() error {
	_, err := keyring.Get(k.Service, "switchboard-keyring-check")
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return backend.ReasonErrorf(backend.EUnavailable, ReasonNoKeyring, "No system keyring answered (%v). %s", err, Hint)
}

// Get returns the secret for account. Returns ENotFound when there is none.
func (k *Keychain) Get(account string) (string, error) {
	s, err := keyring.Get(k.Service, account)
	if errors.Is(err, keyring.ErrNotFound) {
		return "", backend.Errorf(backend.ENotFound, "The keyring holds nothing for %s.", account)
	} else if err != nil {
		return "", backend.Errorf(backend.EUnavailable, "The system keyring cannot be read (%v). Is a keyring service running and unlocked?", err)
	}
	return s, nil
}

// Delete removes the secret for account; a missing one is not an error.
func (k *Keychain) Delete(account string) error {
	if err := keyring.Delete(k.Service, account); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("delete from keyring: %w", err)
	}
	return nil
}
