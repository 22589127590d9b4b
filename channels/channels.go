// Package channels is Switchboard's channel framework: the Connector
// interface every messaging platform implements, the registry connectors add
// themselves to, and the Hub that serves their webhooks, stores what they
// carry before acknowledging, and delivers replies from a durable outbox.
package channels

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"switchboard/backend"
)

// Connector is one configured account on one platform. The Hub calls Verify
// on a webhook's raw bytes before Parse ever sees them, and Send from the
// outbox sender. Implementations must be safe for concurrent use.
type Connector interface {
	// Verify checks the webhook's signature (or secret) in constant time.
	// Returns EUnauthorized when it is missing and EForbidden when it is wrong.
	Verify(req *Request) error
	// Parse turns a verified webhook into messages and delivery statuses.
	// Returns EInvalid for a payload it cannot read.
	Parse(req *Request) (*Webhook, error)
	// Send delivers one outbound message. Errors are *SendError so the
	// outbox knows whether and when to retry.
	Send(ctx context.Context, out *Outbound) (*Sent, error)
}

// Handshaker is a Connector that answers the platform's GET verification
// (Meta's hub.challenge).
type Handshaker interface {
	// Handshake returns the status and plain-text body for a GET request.
	Handshake(req *Request) (status int, body string)
}

// Acker is a Connector whose platform expects a particular 2xx body, such
// as Twilio's empty TwiML response.
type Acker interface {
	// Ack writes the success response after the webhook was stored.
	Ack(w http.ResponseWriter)
}

// Poller is a Connector that fetches updates itself over a connection it
// holds (Telegram's getUpdates, the Discord Gateway, IMAP IDLE).
type Poller interface {
	// Polling reports whether this instance is configured to poll.
	Polling() bool
	// Poll fetches updates until ctx ends, handing each batch to
	// link.Deliver and confirming it to the platform only after Deliver
	// returned nil. It calls link.Connected once the platform accepted the
	// connection. A *FinalError (a revoked token, a refused login) stops
	// the instance until its settings are saved again; any other error
	// reconnects after a short wait.
	Poll(ctx context.Context, link PollLink) error
}

// PollLink is what a Poller reports to: the hub, which stores what it
// delivers, keeps its state across restarts and shows its health.
type PollLink interface {
	// Deliver stores a batch durably (deduplicated); an error means
	// something was not stored.
	Deliver(ctx context.Context, wh *Webhook) error
	// Connected says the platform accepted the connection: the wait
	// before the next reconnect starts over.
	Connected()
	// State returns what the poller saved last (nil when nothing).
	State(ctx context.Context) ([]byte, error)
	// SaveState stores the poller's state (an offset, a session) durably.
	SaveState(ctx context.Context, state []byte) error
}

// FinalError is an error the platform says retrying cannot fix (Discord's
// 4004, a 401 for a revoked token, an IMAP login refused): the poller stops
// and the instance shows Reason in its health until saved again.
type FinalError struct {
	Reason string
	Err    error
}

// Error implements the error interface.
func (e *FinalError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

// Unwrap returns the underlying error.
func (e *FinalError) Unwrap() error { return e.Err }

// IdempotentSender is a Connector whose platform deduplicates sends on
// Outbound.IdempotencyKey, so a send that may or may not have arrived can be
// repeated safely.
type IdempotentSender interface {
	IdempotentSends() bool
}

// Request is a webhook as the platform sent it.
type Request struct {
	Method string
	// URL is the full external URL the platform called (scheme, host, path,
	// query), which Twilio signs.
	URL    string
	Header http.Header
	Body   []byte
}

// Query returns the URL's query parameters.
func (r *Request) Query() url.Values {
	u, err := url.Parse(r.URL)
	if err != nil {
		return url.Values{}
	}
	return u.Query()
}

// Webhook is what one verified webhook carries.
type Webhook struct {
	Messages []*backend.InboundMessage `json:"messages,omitempty"`
	Statuses []Status                  `json:"statuses,omitempty"`
}

// Status is a delivery update from the platform. Either ExternalID names one
// sent message, or ThreadKey and Before name every message of a thread up to
// a watermark (Messenger's read receipts).
type Status struct {
	ExternalID string    `json:"externalId,omitempty"`
	ThreadKey  string    `json:"threadKey,omitempty"`
	Before     time.Time `json:"before,omitzero"`
	// Status is a backend delivery state (sent, delivered, read, failed).
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// Outbound is one message for a connector to send.
type Outbound struct {
	// MessageID is Switchboard's id of the message.
	MessageID string
	// IdempotencyKey is the same on every retry of this message.
	IdempotencyKey string
	// ThreadKey is the conversation's thread key as the connector produced
	// it from inbound messages; it names the recipient.
	ThreadKey string
	Text      string
	// Attachments are every attachment of the message; links to other
	// sites go as links.
	Attachments []backend.Attachment
	// Files are the attachments the engine keeps (/media/{id}), with
	// their content, already checked against Info.Media.
	Files []File
	// Cc, on channels that copy people, names who is copied; nil means
	// everyone on the thread (reply all).
	Cc []string
	// LastInbound is the conversation's newest inbound message, or nil.
	LastInbound *backend.InboundRef
	// InDoubt is true when an earlier attempt may have reached the platform.
	InDoubt bool
}

// Sent is the platform's answer to a send it accepted.
type Sent struct {
	// ExternalID is the platform's id of the sent message; status webhooks
	// name it.
	ExternalID string
	// Status is the delivery state the answer proves (sent when empty;
	// Twilio's "queued" stays queued).
	Status string
}

// Params is what New receives to build one instance.
type Params struct {
	Connector string
	Instance  string
	// Config is the instance's JSON; decode it with DecodeConfig.
	Config json.RawMessage
	// HookURL is the public URL of this instance's webhook ("" when the
	// engine has no public URL), for platforms that take a callback URL.
	HookURL string
	// BaseURL replaces the platform's API base URL (tests point it at a
	// fake); "" means the real platform.
	BaseURL string
	Client  *http.Client
	Logger  *slog.Logger
	Now     func() time.Time
	// After is the engine clock's timer, for connectors that keep time on
	// a connection (the Discord Gateway's heartbeats): tests drive it.
	After func(d time.Duration) <-chan time.Time
}

// JSON is Info.ContentTypes of connectors whose platform posts JSON.
var JSON = []string{"application/json"}

// Info describes a connector type.
type Info struct {
	// ID names the connector, such as "sms.twilio".
	ID string
	// New builds one instance from its configuration. Config errors are
	// EInvalid.
	New func(p Params) (Connector, error)
	// Secrets lists the top-level config keys that hold secrets; they are
	// redacted whenever a configuration is shown.
	Secrets []string
	// ContentTypes are the media types the platform posts webhooks as; a
	// webhook of any other type is refused with 415 (empty: any).
	ContentTypes []string
	// Rate is the default sends per second per instance (0: no limit),
	// with Burst sends allowed at once.
	Rate  float64
	Burst int
	// Title names the connector for people, such as "SMS (Twilio)".
	Title Text
	// Settings describe the configuration fields, in form order; a setting
	// of KindSecret must be listed in Secrets too.
	Settings []Setting
	// Webhook is true when the platform posts to the instance's webhook URL
	// (/hooks/{connector}/{instance}), which the admin pastes into the
	// platform's console.
	Webhook bool
	// Testable is true when the connector implements Tester.
	Testable bool
	// Media says which files the platform carries in a reply.
	Media MediaLimits
	// Cc is true when replies can copy people (email).
	Cc bool
}

var registry = struct {
	sync.RWMutex
	m map[string]Info
}{m: map[string]Info{}}

// Register adds a connector type. It panics on an empty or duplicate ID or a
// nil New, as modules do at init time.
func Register(info Info) {
	if info.ID == "" {
		panic("channels: Register with an empty connector id")
	}
	if info.New == nil {
		panic(fmt.Sprintf("channels: connector %q has no New func", info.ID))
	}
	checkSettings(info)
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[info.ID]; dup {
		panic(fmt.Sprintf("channels: connector %q registered twice", info.ID))
	}
	registry.m[info.ID] = info
}

// Lookup returns the registered connector type with the given ID.
func Lookup(id string) (Info, bool) {
	registry.RLock()
	defer registry.RUnlock()
	info, ok := registry.m[id]
	return info, ok
}

// Registered returns every registered connector type ordered by ID.
func Registered() []Info {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]Info, 0, len(registry.m))
	for _, info := range registry.m {
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
