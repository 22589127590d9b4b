// Package secret encrypts the engine's secrets at rest with
// XChaCha20-Poly1305 (golang.org/x/crypto): a 256-bit key that lives outside
// the database (the OS keyring for the desktop's embedded engine, a key file
// or an environment variable for `switchboard serve`), a random 192-bit
// nonce per value, and the value's place as associated data.
package secret

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"

	"switchboard/backend"
)

// KeySize is the key length in bytes.
const KeySize = chacha20poly1305.KeySize

// prefix marks a sealed value and its format version.
const prefix = "sb1:"

// ErrWrongKey is returned by Open for a value sealed with another key (or
// changed since).
var ErrWrongKey = errors.New("secret: the value does not open with this key")

var _ backend.Sealer = (*Key)(nil)

// Key seals and opens secrets. It never prints its bytes: fmt, %#v and slog
// all show a placeholder.
type Key struct {
	raw [KeySize]byte
}

// New returns a random key.
func New() (*Key, error) {
	k := &Key{}
	if _, err := rand.Read(k.raw[:]); err != nil {
		return nil, fmt.Errorf("secret: new key: %w", err)
	}
	return k, nil
}

// MustNew returns a random key and panics if the system has no randomness
// (crypto/rand does not fail on supported systems); for tests and set-up.
func MustNew() *Key {
	k, err := New()
	if err != nil {
		panic(err)
	}
	return k
}

// Generate returns a new random key in the text form Parse reads (base64),
// for a key file, an environment variable or the keyring.
func Generate() (string, error) {
	k, err := New()
	if err != nil {
		return "", err
	}
	return k.Text(), nil
}

// Parse reads a key written as base64 (standard or URL alphabet, padded or
// not) or as 64 hex digits; surrounding white space is ignored. The error
// never repeats the text.
func Parse(text string) (*Key, error) {
	text = strings.TrimSpace(text)
	var raw []byte
	if len(text) == 2*KeySize {
		raw, _ = hex.DecodeString(text)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if len(raw) == KeySize {
			break
		}
		raw, _ = enc.DecodeString(text)
	}
	if len(raw) != KeySize {
		return nil, backend.Errorf(backend.EInvalid, "A secret key is %d random bytes written as base64 (or 64 hex digits); generate one with `switchboard key generate`.", KeySize)
	}
	k := &Key{}
	copy(k.raw[:], raw)
	return k, nil
}

// ReadFile reads a key file. It refuses a file that others may read,
// like ssh does with private keys.
func ReadFile(path string) (*Key, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The secret key file cannot be read: %v.", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, backend.Errorf(backend.EInvalid, "The secret key file %s may be read by other users (mode %v); chmod 600 it.", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The secret key file cannot be read: %v.", err)
	}
	k, err := Parse(string(b))
	if err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The secret key file %s does not hold a key: %s", path, backend.ErrorMessage(err))
	}
	return k, nil
}

// Text returns the key as base64, the form Parse reads. Only code that
// stores the key itself (the keyring) calls it.
func (k *Key) Text() string { return base64.StdEncoding.EncodeToString(k.raw[:]) }

// Seal implements backend.Sealer: "sb1:" + base64(nonce ‖ ciphertext ‖ tag).
func (k *Key) Seal(plaintext []byte, context string) string {
	aead, _ := chacha20poly1305.NewX(k.raw[:]) // fails only for a wrong key size
	buf := make([]byte, chacha20poly1305.NonceSizeX, chacha20poly1305.NonceSizeX+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		panic("secret: no randomness: " + err.Error()) // crypto/rand never fails on supported systems
	}
	out := aead.Seal(buf, buf, plaintext, []byte(context))
	return prefix + base64.RawStdEncoding.EncodeToString(out)
}

// Open implements backend.Sealer. It returns ErrWrongKey when the value does
// not authenticate (another key, another context, or changed bytes).
func (k *Key) Open(sealed, context string) ([]byte, error) {
	body, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return nil, errors.New("secret: not a sealed value")
	}
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(raw) < chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead {
		return nil, ErrWrongKey
	}
	aead, _ := chacha20poly1305.NewX(k.raw[:])
	plain, err := aead.Open(nil, raw[:chacha20poly1305.NonceSizeX], raw[chacha20poly1305.NonceSizeX:], []byte(context))
	if err != nil {
		return nil, ErrWrongKey
	}
	return plain, nil
}

// Sealed implements backend.Sealer.
func (k *Key) Sealed(s string) bool { return IsSealed(s) }

// IsSealed reports whether s has the form Seal produces.
func IsSealed(s string) bool { return strings.HasPrefix(s, prefix) }

// String shows a placeholder, never the key.
func (k Key) String() string { return "secret.Key(" + backend.Redacted + ")" }

// GoString shows a placeholder, never the key.
func (k Key) GoString() string { return k.String() }

// LogValue shows a placeholder, never the key.
func (k Key) LogValue() slog.Value { return slog.StringValue(backend.Redacted) }
