package channels

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"

	"switchboard/backend"
)

// Secret is a configuration value that must never be printed or logged.
// fmt, slog and encoding/json all see a placeholder; Reveal gives the value.
type Secret string

// Redacted is what Secret and redacted configurations show instead of a secret.
const Redacted = "********"

// Reveal returns the secret value itself.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer with the placeholder.
func (s Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer with the placeholder.
func (s Secret) GoString() string { return `"` + Redacted + `"` }

// LogValue implements slog.LogValuer with the placeholder.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON encodes the placeholder, so a config struct marshalled by
// mistake leaks nothing.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(Redacted) }

// UnmarshalJSON decodes the real value.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Secret(v)
	return nil
}

// DecodeConfig decodes raw into v strictly: unknown fields, trailing data
// and type mismatches are EInvalid errors naming the problem but never a value.
func DecodeConfig(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return backend.Errorf(backend.EInvalid, "Config field %q has the wrong type.", te.Field)
		}
		return backend.Errorf(backend.EInvalid, "The channel configuration is invalid: %s.", safeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return backend.Errorf(backend.EInvalid, "The channel configuration has data after the JSON object.")
	}
	return nil
}

// safeJSONError keeps decoder messages that name fields, not values.
func safeJSONError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "it is not valid JSON"
	}
	return err.Error() // "json: unknown field \"x\"" names only the key
}

// RedactConfig returns raw with the values of the given top-level keys
// replaced by Redacted (empty values stay empty so a missing secret shows).
func RedactConfig(raw json.RawMessage, secrets []string) json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return json.RawMessage("{}")
	}
	for _, k := range secrets {
		if v, ok := m[k]; ok && string(v) != `""` && string(v) != "null" {
			m[k] = json.RawMessage(`"` + Redacted + `"`)
		}
	}
	out, _ := json.Marshal(m)
	return out
}

// keepSecrets returns next with every secret key whose value is the
// Redacted placeholder replaced by its value in prev, so an admin can edit
// a redacted configuration without retyping secrets.
func keepSecrets(next, prev json.RawMessage, secrets []string) (json.RawMessage, error) {
	var n, p map[string]json.RawMessage
	if err := json.Unmarshal(next, &n); err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The channel configuration must be a JSON object.")
	}
	_ = json.Unmarshal(prev, &p)
	for _, k := range secrets {
		if string(n[k]) == `"`+Redacted+`"` {
			if old, ok := p[k]; ok {
				n[k] = old
			} else {
				delete(n, k)
			}
		}
	}
	return json.Marshal(n)
}
