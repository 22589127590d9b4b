// Package webchat is Switchboard's own website chat: a small JavaScript
// widget a business embeds with one <script> tag, the widget's HTTP and
// WebSocket server (Server), and the channel connector (Connector) through
// which agents' replies leave the outbox.
//
// The connector and the server share nothing but the store: the connector
// marks a reply sent, and the server pushes every sent reply to the
// visitor's open sockets from the store's change feed.
package webchat

import (
	"context"
	"strings"

	"switchboard/backend"
	"switchboard/channels"
)

// ID is the connector id.
const ID = "webchat"

func init() {
	channels.Register(channels.Info{ID: ID, New: New, Secrets: []string{"identitySecret"},
		Title: channels.T("Website chat", "Chat del sitio web"), Settings: settings})
}

// Config is one widget, configured with PUT /api/channels/webchat/{instance}.
type Config struct {
	// AllowedOrigins lists the sites (scheme://host[:port]) that may embed
	// the widget; "*" allows any. Required.
	AllowedOrigins []string `json:"allowedOrigins"`
	// IdentitySecret is the HMAC-SHA256 key the business's backend uses to
	// sign a signed-in user's identifier (hex), which links the visitor to
	// a known contact. Empty: visitors stay anonymous.
	IdentitySecret channels.Secret `json:"identitySecret,omitempty"`
	// Title, Greeting and Color style the widget.
	Title    string `json:"title,omitempty"`
	Greeting string `json:"greeting,omitempty"`
	Color    string `json:"color,omitempty"`
	// PreChat shows the name/email form before the first message (default
	// true); both fields are optional for the visitor.
	PreChat *bool `json:"preChat,omitempty"`
}

// ParseConfig decodes and checks a widget configuration.
func ParseConfig(raw []byte) (*Config, error) {
	var c Config
	if err := channels.DecodeConfig(raw, &c); err != nil {
		return nil, err
	}
	if len(c.AllowedOrigins) == 0 {
		return nil, backend.Errorf(backend.EInvalid, "A web chat widget needs allowedOrigins: the sites that embed it, or \"*\".")
	}
	for i, o := range c.AllowedOrigins {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o != "*" && !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://") {
			return nil, backend.Errorf(backend.EInvalid, "allowedOrigins entries look like https://shop.example.com (or \"*\").")
		}
		c.AllowedOrigins[i] = o
	}
	if c.Title == "" {
		c.Title = "Chat with us"
	}
	if c.Color != "" && !validColor(c.Color) {
		return nil, backend.Errorf(backend.EInvalid, "color must be a hex colour such as #2b6cb0.")
	}
	if c.Color == "" {
		c.Color = "#2b6cb0"
	}
	return &c, nil
}

func validColor(s string) bool {
	if len(s) != 4 && len(s) != 7 || s[0] != '#' {
		return false
	}
	for _, r := range s[1:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// AllowsOrigin reports whether a page at origin may use the widget.
func (c *Config) AllowsOrigin(origin string) bool {
	if origin == "" {
		return false
	}
	for _, o := range c.AllowedOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// Connector is one widget instance on the outbox side.
type Connector struct {
	cfg *Config
}

var _ channels.Connector = (*Connector)(nil)

// New builds a connector from its configuration.
func New(p channels.Params) (channels.Connector, error) {
	cfg, err := ParseConfig(p.Config)
	if err != nil {
		return nil, err
	}
	return &Connector{cfg: cfg}, nil
}

// Verify implements channels.Connector: the widget never calls webhooks.
func (c *Connector) Verify(req *channels.Request) error {
	return backend.Errorf(backend.EForbidden, "The web chat widget has no webhook.")
}

// Parse implements channels.Connector.
func (c *Connector) Parse(req *channels.Request) (*channels.Webhook, error) {
	return nil, backend.Errorf(backend.EInvalid, "The web chat widget has no webhook.")
}

// Send implements channels.Connector. The message is already in the store:
// marking it sent makes the widget server push it to the visitor's sockets,
// and the visitor who is away sees it in the history on return.
func (c *Connector) Send(ctx context.Context, out *channels.Outbound) (*channels.Sent, error) {
	if out.ThreadKey == "" {
		return nil, channels.Permanent("The conversation has no web chat visitor.")
	}
	return &channels.Sent{Status: backend.DeliverySent}, nil
}
