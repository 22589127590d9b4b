package channels

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"switchboard/backend"
)

// Text is a sentence shown to admins, in English and Spanish.
type Text = backend.Text

// T returns a Text from its English and Spanish wording.
func T(en, es string) Text { return Text{En: en, Es: es} }

// Setting kinds: how the admin's form edits a configuration field.
const (
	KindText   = "text"
	KindSecret = "secret" // write-only: shown as set or not set, never read back
	KindNumber = "number"
	KindBool   = "bool"
	KindSelect = "select" // one of Options
	KindList   = "list"   // a JSON array of strings, one per line in the form
	KindURL    = "url"
	KindEmail  = "email"
	KindHost   = "hostport" // host:port
)

// Setting describes one top-level field of a connector's configuration, so
// the admin console can build its form from the connector itself.
type Setting = backend.ChannelSetting

// Tester is a Connector that can check its credentials with the platform
// through a harmless authenticated call (Telegram getMe, Twilio's account,
// Meta's token debugger, Discord's bot user, an IMAP and SMTP login).
type Tester interface {
	// TestConnection returns what the platform says about the account,
	// such as "bot @acme_support_bot". A refused credential is EInvalid
	// with the platform's words; an unreachable platform EUnavailable.
	TestConnection(ctx context.Context) (string, error)
}

// checkSettings panics when a connector's settings and its secret list
// disagree: every secret must be a KindSecret setting and the reverse.
func checkSettings(info Info) {
	keys := map[string]bool{}
	for _, s := range info.Settings {
		if s.Key == "" || s.Label.En == "" || s.Kind == "" {
			panic(fmt.Sprintf("channels: connector %q has a setting without key, label or kind", info.ID))
		}
		if keys[s.Key] {
			panic(fmt.Sprintf("channels: connector %q describes %q twice", info.ID, s.Key))
		}
		keys[s.Key] = true
		if (s.Kind == KindSecret) != slices.Contains(info.Secrets, s.Key) {
			panic(fmt.Sprintf("channels: connector %q: setting %q is a secret in one list but not the other", info.ID, s.Key))
		}
	}
	for _, k := range info.Secrets {
		if len(info.Settings) > 0 && !keys[k] {
			panic(fmt.Sprintf("channels: connector %q: secret %q has no setting", info.ID, k))
		}
	}
}

// TestError turns a failed test call (usually a *SendError) into the error
// TestConnection returns: the platform refusing the credentials is
// EInvalid with its reason, anything else EUnavailable.
func TestError(platform string, err error) error {
	var se *SendError
	if errors.As(err, &se) {
		if se.Permanent && se.Reason != "" {
			return backend.Errorf(backend.EInvalid, "%s refused the credentials: %s", platform, se.Reason)
		}
		if se.Reason != "" {
			return backend.Errorf(backend.EUnavailable, "%s could not be reached: %s", platform, se.Reason)
		}
	}
	if code := backend.ErrorCode(err); code == backend.EInvalid || code == backend.EUnavailable {
		return err
	}
	return backend.Errorf(backend.EUnavailable, "%s could not be reached.", platform)
}
