package storekit

import (
	"switchboard/backend"
)

// Contexts bind each sealed value to its place, so a value copied into
// another row does not open there.

// ChannelSecretContext is the place of a channel instance's configuration.
func ChannelSecretContext(connector, instance string) string {
	return "channel_instances.config:" + connector + "/" + instance
}

// WebchatKeyContext is the place of a web chat server key.
func WebchatKeyContext(name string) string { return "webchat_keys.key:" + name }

// TrunkConfigContext is the place of a SIP trunk's configuration.
func TrunkConfigContext(name string) string { return "voice_trunks.config:" + name }

// FlowHeaderContext is the place of one HTTP widget header of a flow.
func FlowHeaderContext(key, widget, header string) string {
	return "flow_revisions.headers:" + key + ":" + widget + ":" + header
}

// KeyCheckContext is the place of the constant that proves the key.
const KeyCheckContext = "secret_state.check"

// KeyCheckPlain is the constant sealed as the key check.
const KeyCheckPlain = "switchboard"

// ErrWrongKey is the answer to opening a store with another key.
func ErrWrongKey() error {
	return backend.Errorf(backend.EInvalid, "The secret key is not the one this data directory's secrets were encrypted with.")
}

// Secrets seals and opens a store's secrets with its key (nil: the store
// has none, and refuses to write or read secrets).
type Secrets struct {
	Key backend.Sealer
}

// errNoKey is why a secret cannot be written or read without a key.
func errNoKey() error {
	return backend.Errorf(backend.EUnavailable, "Secrets cannot be stored or read: the engine has no secret key. "+
		"Start `switchboard serve` with --secret-key-file FILE or SWITCHBOARD_SECRET_KEY.")
}

// Seal encrypts a secret for its place; without a key it refuses.
func (s Secrets) Seal(plain []byte, context string) (string, error) {
	if s.Key == nil {
		return "", errNoKey()
	}
	return s.Key.Seal(plain, context), nil
}

// Open decrypts a sealed value; without a key it refuses. A clear value
// (written before encryption, sealed at the first open with a key) is
// returned as it is.
func (s Secrets) Open(stored string, context string) ([]byte, error) {
	if s.Key == nil {
		return nil, errNoKey()
	}
	if !s.Key.Sealed(stored) {
		return []byte(stored), nil
	}
	plain, err := s.Key.Open(stored, context)
	if err != nil {
		return nil, backend.Errorf(backend.EUnavailable, "A stored secret does not open with this engine's secret key.")
	}
	return plain, nil
}

// SealFlow seals the header values of f for flow key.
func (s Secrets) SealFlow(key string, f *backend.Flow) (*backend.Flow, error) {
	return f.MapHeaders(func(widget, name, v string) (string, error) {
		if v == "" || (s.Key != nil && s.Key.Sealed(v)) {
			return v, nil
		}
		return s.Seal([]byte(v), FlowHeaderContext(key, widget, name))
	})
}

// OpenFlow opens the header values of a stored flow of key.
func (s Secrets) OpenFlow(key string, f *backend.Flow) (*backend.Flow, error) {
	return f.MapHeaders(func(widget, name, v string) (string, error) {
		plain, err := s.Open(v, FlowHeaderContext(key, widget, name))
		return string(plain), err
	})
}

// CheckKey returns EInvalid when a stored key check was not sealed with
// the key.
func (s Secrets) CheckKey(check string) error {
	if plain, err := s.Key.Open(check, KeyCheckContext); err != nil || string(plain) != KeyCheckPlain {
		return ErrWrongKey()
	}
	return nil
}

// NewKeyCheck returns the key check to store for a store's first key.
func (s Secrets) NewKeyCheck() string {
	return s.Key.Seal([]byte(KeyCheckPlain), KeyCheckContext)
}
