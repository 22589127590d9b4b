// Package messenger is the connector for Facebook Messenger ("messenger")
// and Instagram messaging ("instagram") through Meta's Graph API: webhooks
// signed with X-Hub-Signature-256 (GET hub.challenge handshake), messages,
// postbacks, delivery and read receipts, and the Send API.
package messenger

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"switchboard/backend"
	"switchboard/channels"
	"switchboard/channels/meta"
)

// Connector ids.
const (
	Messenger = "messenger"
	Instagram = "instagram"
)

// Windows for free replies and for human-agent tagged replies.
const (
	Window      = 24 * time.Hour
	HumanWindow = 7 * 24 * time.Hour
)

func init() {
	for _, id := range []string{Messenger, Instagram} {
		channels.Register(channels.Info{
			ID: id, New: New, Secrets: []string{"appSecret", "accessToken", "verifyToken"}, ContentTypes: channels.JSON,
			Rate: 300, Burst: 50, // Send API: 300 calls/s per Page or IG account
			Title: titles[id], Settings: settings, Testable: true, Webhook: true,
		})
	}
}

var titles = map[string]channels.Text{Messenger: channels.T("Facebook Messenger", "Facebook Messenger"), Instagram: channels.T("Instagram", "Instagram")}

// Config is one Facebook Page or Instagram professional account.
type Config struct {
	AppSecret   channels.Secret `json:"appSecret"`
	VerifyToken channels.Secret `json:"verifyToken"`
	// AccessToken is the Page access token (Messenger, or Instagram with
	// Facebook Login) or the Instagram user token (Instagram Login).
	AccessToken channels.Secret `json:"accessToken"`
	// AccountID is the Page id (Messenger) or the IG professional account
	// id (Instagram).
	AccountID  string `json:"accountId"`
	APIVersion string `json:"apiVersion,omitempty"`
	// AppID, with AppSecret, makes the app access token that Meta's
	// token debugger needs (Test connection).
	AppID string `json:"appId,omitempty"`
}

// Connector is one configured Page or IG account.
type Connector struct {
	cfg       Config
	instagram bool
	base      string
	client    *http.Client
	now       func() time.Time
}

var (
	_ channels.Connector  = (*Connector)(nil)
	_ channels.Handshaker = (*Connector)(nil)
)

// New builds a connector from its configuration.
func New(p channels.Params) (channels.Connector, error) {
	c := &Connector{instagram: p.Connector == Instagram, base: p.BaseURL, client: p.Client, now: p.Now}
	if err := channels.DecodeConfig(p.Config, &c.cfg); err != nil {
		return nil, err
	}
	if c.cfg.AppSecret == "" || c.cfg.AccessToken == "" || c.cfg.AccountID == "" {
		return nil, backend.Errorf(backend.EInvalid, "A Messenger or Instagram channel needs appSecret, accessToken and accountId.")
	}
	if c.cfg.APIVersion == "" {
		c.cfg.APIVersion = meta.DefaultVersion
	}
	if c.base == "" {
		c.base = meta.DefaultGraphURL
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Verify implements channels.Connector.
func (c *Connector) Verify(req *channels.Request) error {
	return meta.Verify(c.cfg.AppSecret.Reveal(), req)
}

// Handshake implements channels.Handshaker.
func (c *Connector) Handshake(req *channels.Request) (int, string) {
	return meta.Handshake(c.cfg.VerifyToken.Reveal(), req)
}

// Parse implements channels.Connector.
func (c *Connector) Parse(req *channels.Request) (*channels.Webhook, error) {
	object := "page"
	if c.instagram {
		object = "instagram"
	}
	return Parse(req.Body, object)
}

type event struct {
	Sender    struct{ ID string } `json:"sender"`
	Recipient struct{ ID string } `json:"recipient"`
	Timestamp int64               `json:"timestamp"`
	Message   *struct {
		Mid         string `json:"mid"`
		Text        string `json:"text"`
		IsEcho      bool   `json:"is_echo"`
		Attachments []struct {
			Type    string `json:"type"`
			Payload struct {
				URL string `json:"url"`
			} `json:"payload"`
		} `json:"attachments"`
		QuickReply *struct {
			Payload string `json:"payload"`
		} `json:"quick_reply"`
	} `json:"message"`
	Postback *struct {
		Mid     string `json:"mid"`
		Title   string `json:"title"`
		Payload string `json:"payload"`
	} `json:"postback"`
	Delivery *struct {
		Mids      []string `json:"mids"`
		Watermark int64    `json:"watermark"`
	} `json:"delivery"`
	Read *struct {
		Mid       string `json:"mid"`
		Watermark int64  `json:"watermark"`
	} `json:"read"`
}

// Parse normalizes a Messenger ("page") or Instagram ("instagram") webhook.
// Echoes of the account's own messages and standby events are skipped.
func Parse(body []byte, object string) (*channels.Webhook, error) {
	var p struct {
		Object string `json:"object"`
		Entry  []struct {
			ID        string            `json:"id"`
			Messaging []json.RawMessage `json:"messaging"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The webhook is not valid JSON.")
	}
	if p.Object != object {
		return nil, backend.Errorf(backend.EInvalid, "The webhook is for %q, not %q.", p.Object, object)
	}
	wh := &channels.Webhook{}
	for _, e := range p.Entry {
		for _, raw := range e.Messaging {
			var ev event
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, backend.Errorf(backend.EInvalid, "A messaging event is malformed.")
			}
			// The thread is (account, customer); in receipts the customer
			// is the sender too.
			thread := e.ID + "|" + ev.Sender.ID
			at := time.UnixMilli(ev.Timestamp).UTC()
			switch {
			case ev.Message != nil && !ev.Message.IsEcho:
				if ev.Message.Mid == "" || ev.Sender.ID == "" {
					return nil, backend.Errorf(backend.EInvalid, "A message has no mid or sender.")
				}
				in := &backend.InboundMessage{ExternalUserID: ev.Sender.ID, ThreadKey: thread, ExternalID: ev.Message.Mid,
					Text: ev.Message.Text, PlatformAt: at, Raw: raw}
				for _, a := range ev.Message.Attachments {
					if a.Payload.URL != "" {
						in.Attachments = append(in.Attachments, backend.Attachment{URL: a.Payload.URL, Type: a.Type})
					}
				}
				wh.Messages = append(wh.Messages, in)
			case ev.Postback != nil && ev.Sender.ID != "":
				id := ev.Postback.Mid
				if id == "" {
					id = "postback:" + ev.Sender.ID + ":" + strconv.FormatInt(ev.Timestamp, 10)
				}
				wh.Messages = append(wh.Messages, &backend.InboundMessage{ExternalUserID: ev.Sender.ID, ThreadKey: thread,
					ExternalID: id, Text: ev.Postback.Title, PlatformAt: at, Raw: raw})
			case ev.Delivery != nil:
				for _, mid := range ev.Delivery.Mids {
					wh.Statuses = append(wh.Statuses, channels.Status{ExternalID: mid, Status: backend.DeliveryDelivered})
				}
				if len(ev.Delivery.Mids) == 0 && ev.Delivery.Watermark > 0 {
					wh.Statuses = append(wh.Statuses, channels.Status{ThreadKey: thread, Before: time.UnixMilli(ev.Delivery.Watermark).UTC(), Status: backend.DeliveryDelivered})
				}
			case ev.Read != nil:
				if ev.Read.Mid != "" {
					wh.Statuses = append(wh.Statuses, channels.Status{ExternalID: ev.Read.Mid, Status: backend.DeliveryRead})
				} else if ev.Read.Watermark > 0 {
					wh.Statuses = append(wh.Statuses, channels.Status{ThreadKey: thread, Before: time.UnixMilli(ev.Read.Watermark).UTC(), Status: backend.DeliveryRead})
				}
			}
		}
	}
	return wh, nil
}

// Send implements channels.Connector with the Send API. Messenger posts to
// /{version}/me/messages?access_token=…, Instagram to
// /{version}/{account-id}/messages with a bearer token. One call per
// message: attachments beyond the first go as links in the text.
func (c *Connector) Send(ctx context.Context, out *channels.Outbound) (*channels.Sent, error) {
	_, psid, ok := strings.Cut(out.ThreadKey, "|")
	if !ok {
		psid = out.ThreadKey
	}
	body := map[string]any{"recipient": map[string]string{"id": psid}}
	age := HumanWindow + 1
	if out.LastInbound != nil {
		at := out.LastInbound.PlatformAt
		if at.IsZero() {
			at = out.LastInbound.CreatedAt
		}
		age = c.now().Sub(at)
	}
	switch {
	case age < Window:
		body["messaging_type"] = "RESPONSE"
	case age < HumanWindow:
		body["messaging_type"], body["tag"] = "MESSAGE_TAG", "HUMAN_AGENT"
	default:
		return nil, channels.Permanent("The customer has not written in the last 7 days, so Meta allows no reply.")
	}
	text := out.Text
	msg := map[string]any{}
	atts := out.Attachments
	if text == "" && len(atts) > 0 {
		msg["attachment"] = map[string]any{"type": attachmentType(atts[0].Type), "payload": map[string]any{"url": atts[0].URL, "is_reusable": true}}
		atts = atts[1:]
	}
	for _, a := range atts {
		text += "\n" + a.URL
	}
	if text != "" {
		msg["text"] = strings.TrimLeft(text, "\n")
	}
	body["message"] = msg
	b, _ := json.Marshal(body)
	var endpoint string
	if c.instagram {
		endpoint = c.base + "/" + c.cfg.APIVersion + "/" + url.PathEscape(c.cfg.AccountID) + "/messages"
	} else {
		endpoint = c.base + "/" + c.cfg.APIVersion + "/me/messages?access_token=" + url.QueryEscape(c.cfg.AccessToken.Reveal())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(b))
	if err != nil {
		return nil, channels.Permanent("The Send API request could not be built.")
	}
	req.Header.Set("Content-Type", "application/json")
	if c.instagram {
		req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken.Reveal())
	}
	resp, _, err := channels.Do(c.client, req, nil)
	if err != nil {
		return nil, meta.Classify(err, resp)
	}
	var res struct {
		MessageID string `json:"message_id"`
	}
	if json.Unmarshal(resp, &res) != nil || res.MessageID == "" {
		return nil, &channels.SendError{InDoubt: true, Reason: "The Send API answer had no message id."}
	}
	return &channels.Sent{ExternalID: res.MessageID, Status: backend.DeliverySent}, nil
}

func attachmentType(mime string) string {
	for _, t := range []string{"image", "audio", "video"} {
		if strings.HasPrefix(mime, t) {
			return t
		}
	}
	return "file"
}

var _ channels.Tester = (*Connector)(nil)

// TestConnection implements channels.Tester with Meta's token debugger.
func (c *Connector) TestConnection(ctx context.Context) (string, error) {
	return meta.DebugToken(ctx, c.client, c.base, c.cfg.APIVersion, c.cfg.AppID, c.cfg.AppSecret.Reveal(), c.cfg.AccessToken.Reveal())
}
