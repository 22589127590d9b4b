package backend

// Redacted is what a secret shows as wherever it is displayed, logged or
// carried on the change feed.
const Redacted = "********"

// Sealer encrypts secrets at rest (channel credentials, the web chat signing
// key, flow HTTP headers) with a key that is never stored beside them.
// backend/secret implements it; the store seals before writing and opens
// after reading.
type Sealer interface {
	// Seal encrypts plaintext bound to context (where the value lives, such
	// as "channel:sms.twilio/main"), so a sealed value copied elsewhere
	// does not open.
	Seal(plaintext []byte, context string) string
	// Open decrypts a value Seal returned for the same context. It fails
	// when the value was sealed with another key or changed.
	Open(sealed, context string) ([]byte, error)
	// Sealed reports whether s has the form Seal produces.
	Sealed(s string) bool
}
