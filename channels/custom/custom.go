// Package custom is the generic channel API ("custom"): any platform posts
// signed JSON events to Switchboard and receives replies as signed JSON at
// its own URL. README.md in this directory documents the wire format.
package custom

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard/backend"
	"switchboard/channels"
)

// ID is the connector id.
const ID = "custom"

// Headers of both directions.
const (
	HeaderTimestamp = "X-Switchboard-Timestamp"
	HeaderSignature = "X-Switchboard-Signature"
	HeaderKey       = "Idempotency-Key"
)

// Tolerance is how far a request's timestamp may be from the receiver's
// clock before it is refused as a replay.
const Tolerance = 5 * time.Minute

func init() {
	channels.Register(channels.Info{ID: ID, New: New, Secrets: []string{"secret"}, ContentTypes: channels.JSON, Rate: 50, Burst: 50,
		Title: channels.T("Custom channel", "Canal personalizado"), Settings: settings, Webhook: true})
}

// Config is one custom channel.
type Config struct {
	// Secret signs both directions.
	Secret channels.Secret `json:"secret"`
	// URL receives outbound messages.
	URL string `json:"url"`
}

// Connector is one configured custom channel.
type Connector struct {
	cfg    Config
	client *http.Client
	now    func() time.Time
}

var (
	_ channels.Connector        = (*Connector)(nil)
	_ channels.IdempotentSender = (*Connector)(nil)
)

// New builds a connector from its configuration.
func New(p channels.Params) (channels.Connector, error) {
	c := &Connector{client: p.Client, now: p.Now}
	if err := channels.DecodeConfig(p.Config, &c.cfg); err != nil {
		return nil, err
	}
	if len(c.cfg.Secret) < 16 {
		return nil, backend.Errorf(backend.EInvalid, "A custom channel needs a secret of at least 16 characters.")
	}
	if p.BaseURL != "" {
		c.cfg.URL = p.BaseURL
	}
	if !strings.HasPrefix(c.cfg.URL, "https://") && !strings.HasPrefix(c.cfg.URL, "http://") {
		return nil, backend.Errorf(backend.EInvalid, "A custom channel needs the http(s) url that receives replies.")
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// IdempotentSends implements channels.IdempotentSender: receivers must
// deduplicate on Idempotency-Key.
func (c *Connector) IdempotentSends() bool { return true }

// Sign returns the signature header value for a body sent at timestamp
// (unix seconds): "v1=" + hex HMAC-SHA256(secret, timestamp + "." + body).
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// ValidSignature checks a signature header and timestamp header against
// body in constant time, refusing timestamps outside Tolerance of now.
func ValidSignature(secret string, body []byte, timestamp, sig string, now time.Time) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || secret == "" {
		return false
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Tolerance || d < -Tolerance {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(Sign(secret, ts, body)))
}

// Verify implements channels.Connector.
func (c *Connector) Verify(req *channels.Request) error {
	sig, ts := req.Header.Get(HeaderSignature), req.Header.Get(HeaderTimestamp)
	if sig == "" || ts == "" {
		return backend.Errorf(backend.EUnauthorized, "The %s and %s headers are required.", HeaderSignature, HeaderTimestamp)
	}
	if !ValidSignature(c.cfg.Secret.Reveal(), req.Body, ts, sig, c.now()) {
		return backend.Errorf(backend.EForbidden, "The signature does not match or the timestamp is too old.")
	}
	return nil
}

// Party is a sender or recipient.
type Party struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Event is what a platform posts to Switchboard.
type Event struct {
	// Type is "message" or "status".
	Type string `json:"type"`
	// ID is the platform's message id: unique per channel; a repeat is
	// stored once. For a status, the id of the message it is about.
	ID          string               `json:"id"`
	From        Party                `json:"from"`
	Thread      string               `json:"thread,omitempty"`
	Text        string               `json:"text,omitempty"`
	Attachments []backend.Attachment `json:"attachments,omitempty"`
	Timestamp   time.Time            `json:"timestamp,omitzero"`
	Status      string               `json:"status,omitempty"`
	Reason      string               `json:"reason,omitempty"`
}

// Outgoing is what Switchboard posts to the platform's URL.
type Outgoing struct {
	Type        string               `json:"type"`
	ID          string               `json:"id"`
	To          Party                `json:"to"`
	Thread      string               `json:"thread"`
	Text        string               `json:"text"`
	Attachments []backend.Attachment `json:"attachments"`
	InReplyTo   string               `json:"inReplyTo,omitempty"`
	Timestamp   time.Time            `json:"timestamp"`
}

// Parse implements channels.Connector.
func (c *Connector) Parse(req *channels.Request) (*channels.Webhook, error) { return Parse(req.Body) }

// Parse normalizes one event.
func Parse(body []byte) (*channels.Webhook, error) {
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The event is not valid: %s.", strings.TrimPrefix(err.Error(), "json: "))
	}
	if ev.ID == "" {
		return nil, backend.Errorf(backend.EInvalid, "The event needs an id.")
	}
	switch ev.Type {
	case "message":
		if ev.From.ID == "" {
			return nil, backend.Errorf(backend.EInvalid, "A message needs from.id.")
		}
		if ev.Text == "" && len(ev.Attachments) == 0 {
			return nil, backend.Errorf(backend.EInvalid, "A message needs text or attachments.")
		}
		thread := ev.Thread
		if thread == "" {
			thread = ev.From.ID
		}
		return &channels.Webhook{Messages: []*backend.InboundMessage{{
			ExternalUserID: ev.From.ID, DisplayName: ev.From.Name, ThreadKey: thread, ExternalID: ev.ID,
			Text: ev.Text, Attachments: ev.Attachments, PlatformAt: ev.Timestamp.UTC(), Raw: json.RawMessage(body),
		}}}, nil
	case "status":
		switch ev.Status {
		case backend.DeliverySent, backend.DeliveryDelivered, backend.DeliveryRead, backend.DeliveryFailed:
		default:
			return nil, backend.Errorf(backend.EInvalid, "Status must be sent, delivered, read or failed.")
		}
		return &channels.Webhook{Statuses: []channels.Status{{ExternalID: ev.ID, Status: ev.Status, Reason: ev.Reason}}}, nil
	}
	return nil, backend.Errorf(backend.EInvalid, "Type must be message or status.")
}

// Send implements channels.Connector: a signed POST to the configured URL.
func (c *Connector) Send(ctx context.Context, out *channels.Outbound) (*channels.Sent, error) {
	o := Outgoing{Type: "message", ID: out.MessageID, Thread: out.ThreadKey, Text: out.Text,
		Attachments: out.Attachments, Timestamp: c.now().UTC()}
	if o.Attachments == nil {
		o.Attachments = []backend.Attachment{}
	}
	o.To.ID = out.ThreadKey
	if last := out.LastInbound; last != nil {
		o.InReplyTo = last.ExternalID
		var ev Event
		if json.Unmarshal(last.Raw, &ev) == nil && ev.From.ID != "" {
			o.To = Party{ID: ev.From.ID, Name: ev.From.Name}
		}
	}
	body, _ := json.Marshal(o)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return nil, channels.Permanent("The custom channel request could not be built.")
	}
	ts := c.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(c.cfg.Secret.Reveal(), ts, body))
	req.Header.Set(HeaderKey, out.IdempotencyKey)
	resp, _, err := channels.Do(c.client, req, func(b []byte) string {
		var e struct {
			Error string `json:"error"`
		}
		json.Unmarshal(b, &e)
		return e.Error
	})
	if err != nil {
		return nil, err
	}
	var res struct {
		ID string `json:"id"`
	}
	json.Unmarshal(resp, &res)
	if res.ID == "" {
		res.ID = out.MessageID
	}
	return &channels.Sent{ExternalID: res.ID, Status: backend.DeliverySent}, nil
}
