package webchat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"switchboard/backend"
)

// Claims is what a visitor token says. The token is the only thing a
// visitor holds: it names its thread (Subject) on one widget instance.
type Claims struct {
	Instance string `json:"ins"`
	// Subject is the visitor's thread key: "v_…" for an anonymous visitor,
	// "u:<identifier>" for one the business's backend vouched for.
	Subject  string `json:"sub"`
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	IssuedAt int64  `json:"iat"`
}

// Verified reports whether the visitor's identity was signed by the
// business's backend.
func (c *Claims) Verified() bool { return strings.HasPrefix(c.Subject, "u:") }

var b64 = base64.RawURLEncoding

// SignToken returns "payload.signature", both base64url, signed with
// HMAC-SHA256 under key.
func SignToken(key []byte, c *Claims) string {
	payload, _ := json.Marshal(c)
	p := b64.EncodeToString(payload)
	return p + "." + b64.EncodeToString(mac(key, []byte(p)))
}

// ParseToken checks a token's signature (in constant time) and age and
// returns its claims. Returns EUnauthorized.
func ParseToken(key []byte, token string, now time.Time, ttl time.Duration) (*Claims, error) {
	p, sig, ok := strings.Cut(token, ".")
	bad := backend.Errorf(backend.EUnauthorized, "The visitor token is not valid.")
	if !ok || len(token) > 2048 {
		return nil, bad
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(key, []byte(p))) {
		return nil, bad
	}
	payload, err := b64.DecodeString(p)
	if err != nil {
		return nil, bad
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil || c.Subject == "" || c.Instance == "" {
		return nil, bad
	}
	if ttl > 0 && now.Sub(time.Unix(c.IssuedAt, 0)) > ttl {
		return nil, backend.Errorf(backend.EUnauthorized, "The visitor token has expired.")
	}
	return &c, nil
}

func mac(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}

// IdentityHash is what the business's backend computes for a signed-in
// user: hex(HMAC-SHA256(key = the widget's identity secret, identifier)),
// as Chatwoot's identifier_hash.
func IdentityHash(secret, identifier string) string {
	return hex.EncodeToString(mac([]byte(secret), []byte(identifier)))
}

// ValidIdentity reports, in constant time, whether hash vouches for
// identifier under secret.
func ValidIdentity(secret, identifier, hash string) bool {
	if secret == "" || identifier == "" {
		return false
	}
	want := IdentityHash(secret, identifier)
	return hmac.Equal([]byte(want), []byte(strings.ToLower(hash)))
}
