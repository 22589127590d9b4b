package voice

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"

	"switchboard/backend"
)

// TrunkConfig is one SIP trunk's configuration, set by an admin with
// PUT /api/voice/trunks/{name}.
type TrunkConfig struct {
	// Allow lists the IP addresses or CIDR ranges the carrier sends calls
	// from; INVITEs from anywhere else are refused (403).
	Allow []string `json:"allow"`
	// Numbers lists the numbers the trunk brings in (E.164); empty takes
	// calls to any number.
	Numbers []string `json:"numbers,omitempty"`
	// Proxy is where outbound calls and OPTIONS keep-alives go (host:port).
	Proxy string `json:"proxy,omitempty"`
	// Registrar, when set, is registered with (host:port) and kept
	// registered; digest credentials answer its challenges.
	Registrar string `json:"registrar,omitempty"`
	// Username and Password answer a digest challenge from the registrar
	// or the proxy. Password is a secret: it is shown redacted.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// Domain is the registration's domain (default: the registrar's host).
	Domain string `json:"domain,omitempty"`
	// CallerID is the number outbound calls come from.
	CallerID string `json:"callerId,omitempty"`
	// RegisterSeconds is the registration's lifetime (default 300).
	RegisterSeconds int `json:"registerSeconds,omitempty"`

	nets []*net.IPNet
}

// redacted is what a trunk's password reads as in API answers.
const redacted = "********"

// ParseTrunkConfig decodes and checks a trunk's configuration strictly.
// Returns EInvalid with a sentence naming the problem.
func ParseTrunkConfig(raw []byte) (*TrunkConfig, error) {
	var c TrunkConfig
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The trunk configuration is invalid: %s.", strings.TrimPrefix(err.Error(), "json: "))
	}
	if len(c.Allow) == 0 && c.Registrar == "" {
		return nil, backend.Errorf(backend.EInvalid, "A trunk needs allow (the carrier's addresses) or a registrar.")
	}
	for _, a := range c.Allow {
		if !strings.Contains(a, "/") {
			if strings.Contains(a, ":") && !strings.Contains(a, ".") {
				a += "/128"
			} else {
				a += "/32"
			}
		}
		_, n, err := net.ParseCIDR(a)
		if err != nil {
			return nil, backend.Errorf(backend.EInvalid, "allow entry %q is not an IP address or CIDR range.", a)
		}
		c.nets = append(c.nets, n)
	}
	for _, hp := range []string{c.Proxy, c.Registrar} {
		if hp == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(hp); err != nil {
			return nil, backend.Errorf(backend.EInvalid, "%q must be host:port, such as sip.carrier.example:5060.", hp)
		}
	}
	if (c.Username == "") != (c.Password == "") {
		return nil, backend.Errorf(backend.EInvalid, "Give both username and password, or neither.")
	}
	for i, n := range c.Numbers {
		c.Numbers[i] = normalizeNumber(n)
	}
	if c.RegisterSeconds <= 0 {
		c.RegisterSeconds = 300
	}
	return &c, nil
}

// allows reports whether a call from ip to number belongs to the trunk.
func (c *TrunkConfig) allows(ip net.IP, number string) bool {
	ok := false
	for _, n := range c.nets {
		if n.Contains(ip) {
			ok = true
		}
	}
	if !ok {
		return false
	}
	if len(c.Numbers) == 0 {
		return true
	}
	number = normalizeNumber(number)
	for _, n := range c.Numbers {
		if n == number {
			return true
		}
	}
	return false
}

// normalizeNumber returns +digits for a phone-like string, else s.
func normalizeNumber(s string) string {
	d := strings.TrimPrefix(strings.TrimSpace(s), "+")
	if d == "" || len(d) > 15 {
		return s
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return s
		}
	}
	return "+" + d
}

// RedactTrunk returns t with its password shown as the placeholder.
func RedactTrunk(t *backend.Trunk) *backend.Trunk {
	var m map[string]json.RawMessage
	out := *t
	if json.Unmarshal(t.Config, &m) == nil {
		if _, ok := m["password"]; ok {
			m["password"], _ = json.Marshal(redacted)
			out.Config, _ = json.Marshal(m)
		}
	}
	return &out
}

// PutTrunk validates and stores a trunk (a password given as the
// placeholder keeps the stored one) and applies it. Returns EInvalid.
func (e *Engine) PutTrunk(ctx context.Context, t *backend.Trunk) error {
	if t.Name == "" || strings.ContainsAny(t.Name, "/?# ") {
		return backend.Errorf(backend.EInvalid, "A trunk name has no spaces or slashes.")
	}
	c, err := ParseTrunkConfig(t.Config)
	if err != nil {
		return err
	}
	if c.Password == redacted {
		old, err := e.trunk(ctx, t.Name)
		if err != nil {
			return backend.Errorf(backend.EInvalid, "Give the trunk's password: none is stored yet.")
		}
		var m map[string]json.RawMessage
		json.Unmarshal(t.Config, &m)
		m["password"], _ = json.Marshal(old.Password)
		t.Config, _ = json.Marshal(m)
	}
	if err := e.store.PutTrunk(ctx, t); err != nil {
		return err
	}
	if e.sip != nil {
		e.sip.reload(ctx)
	}
	return nil
}

// Trunks lists trunks with passwords redacted.
func (e *Engine) Trunks(ctx context.Context) ([]*backend.Trunk, error) {
	list, err := e.store.FindTrunks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*backend.Trunk, 0, len(list))
	for _, t := range list {
		out = append(out, RedactTrunk(t))
	}
	return out, nil
}

// DeleteTrunk removes a trunk. Returns ENotFound.
func (e *Engine) DeleteTrunk(ctx context.Context, name string) error {
	if err := e.store.DeleteTrunk(ctx, name); err != nil {
		return err
	}
	if e.sip != nil {
		e.sip.reload(ctx)
	}
	return nil
}

// trunk returns one stored trunk's parsed configuration.
func (e *Engine) trunk(ctx context.Context, name string) (*TrunkConfig, error) {
	list, err := e.store.FindTrunks(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range list {
		if t.Name == name {
			return ParseTrunkConfig(t.Config)
		}
	}
	return nil, backend.Errorf(backend.ENotFound, "Trunk %s does not exist.", name)
}
