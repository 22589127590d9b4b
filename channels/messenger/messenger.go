// Package messenger is the connector for Facebook Messenger ("messenger")
// and Instagram messaging ("instagram") through Meta's Graph API: webhooks
// signed with X-Hub-Signature-256 (GET hub.challenge handshake), messages,
// postbacks, delivery and read receipts, and the Send API.
package messenger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
			Media: limits[id],
		})
	}
}

// limits are the files each platform takes, one per message: Messenger
// uploads any file up to 25 MB (the attachment upload API); Instagram
// fetches images up to 8 MB and video or audio up to 25 MB from a public
// address.
var limits = map[string]channels.MediaLimits{
	Messenger: {MaxFiles: 1, Kinds: []channels.MediaKind{{Name: "files", Types: []string{"*"}, MaxBytes: 25 << 20}}},
	Instagram: {MaxFiles: 1, NeedsLink: true, Kinds: []channels.MediaKind{
		{Name: "images (PNG, JPEG)", Types: []string{"image/png", "image/jpeg"}, MaxBytes: 8 << 20},
		{Name: "video and audio", Types: []string{"video/mp4", "video/ogg", "video/webm", "video/quicktime", "video/x-msvideo",
			"audio/aac", "audio/mp4", "audio/x-m4a", "audio/wav", "audio/x-wav"}, MaxBytes: 25 << 20},
	}},
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
	_ channels.Connector    = (*Connector)(nil)
	_ channels.Handshaker   = (*Connector)(nil)
	_ channels.MediaFetcher = (*Connector)(nil)
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
					switch {
					case a.Payload.URL == "":
					case a.Type == "fallback" || a.Type == "template" || a.Type == "share":
						// A shared link: a page, not a file.
						in.Attachments = append(in.Attachments, backend.Attachment{URL: a.Payload.URL, Type: a.Type})
					default:
						// Files are on Meta's CDN at addresses that expire:
						// the engine fetches and keeps them.
						in.Attachments = append(in.Attachments, backend.Attachment{Ref: a.Payload.URL, Type: a.Type})
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
// /{version}/{account-id}/messages with a bearer token. Text and a file go
// as two messages (the Send API carries one or the other): a kept file is
// uploaded first with the attachment upload API (Messenger) or named by its
// public link (Instagram). The first message's id is the external id.
func (c *Connector) Send(ctx context.Context, out *channels.Outbound) (*channels.Sent, error) {
	_, psid, ok := strings.Cut(out.ThreadKey, "|")
	if !ok {
		psid = out.ThreadKey
	}
	envelope := map[string]any{"recipient": map[string]string{"id": psid}}
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
		envelope["messaging_type"] = "RESPONSE"
	case age < HumanWindow:
		envelope["messaging_type"], envelope["tag"] = "MESSAGE_TAG", "HUMAN_AGENT"
	default:
		return nil, channels.Permanent("The customer has not written in the last 7 days, so Meta allows no reply.")
	}
	var msgs []map[string]any
	text := out.Text
	var links []backend.Attachment
	for _, a := range out.Attachments {
		if _, kept := backend.MediaIDFromPath(a.URL); !kept {
			links = append(links, a)
		}
	}
	if text == "" && len(out.Files) == 0 && len(links) > 0 {
		a := links[0]
		msgs = append(msgs, map[string]any{"attachment": map[string]any{"type": attachmentType(a.Type), "payload": map[string]any{"url": a.URL, "is_reusable": true}}})
		links = links[1:]
	}
	for _, a := range links {
		text += "\n" + a.URL
	}
	if text = strings.TrimLeft(text, "\n"); text != "" {
		msgs = append([]map[string]any{{"text": text}}, msgs...)
	}
	for _, f := range out.Files {
		payload := map[string]any{"url": f.Link, "is_reusable": true}
		if !c.instagram {
			id, err := c.uploadAttachment(ctx, f)
			if err != nil {
				return nil, err
			}
			payload = map[string]any{"attachment_id": id}
		}
		msgs = append(msgs, map[string]any{"attachment": map[string]any{"type": attachmentType(f.Type), "payload": payload}})
	}
	var first string
	for i, m := range msgs {
		body := map[string]any{"message": m}
		for k, v := range envelope {
			body[k] = v
		}
		id, err := c.post(ctx, "/messages", body)
		if err != nil {
			var se *channels.SendError
			if i > 0 && errors.As(err, &se) {
				se.InDoubt, se.Reason = true, "Only part of the reply was sent: "+se.Reason
			}
			return nil, err
		}
		if first == "" {
			first = id
		}
	}
	return &channels.Sent{ExternalID: first, Status: backend.DeliverySent}, nil
}

// endpoint returns the Send API address of path (/messages,
// /message_attachments) for this account.
func (c *Connector) endpoint(path string) string {
	if c.instagram {
		return c.base + "/" + c.cfg.APIVersion + "/" + url.PathEscape(c.cfg.AccountID) + path
	}
	return c.base + "/" + c.cfg.APIVersion + "/me" + path + "?access_token=" + url.QueryEscape(c.cfg.AccessToken.Reveal())
}

// post sends one Send API call and returns the message id it answers.
func (c *Connector) post(ctx context.Context, path string, body map[string]any) (string, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(path), bytes.NewReader(b))
	if err != nil {
		return "", channels.Permanent("The Send API request could not be built.")
	}
	req.Header.Set("Content-Type", "application/json")
	if c.instagram {
		req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken.Reveal())
	}
	resp, _, err := channels.Do(c.client, req, nil)
	if err != nil {
		return "", meta.Classify(err, resp)
	}
	var res struct {
		MessageID string `json:"message_id"`
	}
	if json.Unmarshal(resp, &res) != nil || res.MessageID == "" {
		return "", &channels.SendError{InDoubt: true, Reason: "The Send API answer had no message id."}
	}
	return res.MessageID, nil
}

// uploadAttachment sends a file to the attachment upload API
// (/me/message_attachments, multipart: message and filedata) and returns
// its reusable attachment id.
func (c *Connector) uploadAttachment(ctx context.Context, f channels.File) (string, error) {
	msg, _ := json.Marshal(map[string]any{"attachment": map[string]any{"type": attachmentType(f.Type), "payload": map[string]any{"is_reusable": true}}})
	body, ctype := channels.Multipart([]string{"message", string(msg)}, channels.FilePart{Field: "filedata", File: f})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("/message_attachments"), bytes.NewReader(body))
	if err != nil {
		return "", channels.Permanent("The Messenger upload could not be built.")
	}
	req.Header.Set("Content-Type", ctype)
	resp, _, err := channels.Do(c.client, req, nil)
	if err != nil {
		return "", meta.Classify(err, resp)
	}
	var res struct {
		AttachmentID string `json:"attachment_id"`
	}
	if json.Unmarshal(resp, &res) != nil || res.AttachmentID == "" {
		return "", &channels.SendError{Reason: "Messenger's answer to the upload had no attachment id."}
	}
	return res.AttachmentID, nil
}

// FetchMedia implements channels.MediaFetcher: attachments are on Meta's
// CDN at signed addresses that expire after a while; they need no token
// (none is sent to the CDN).
func (c *Connector) FetchMedia(ctx context.Context, ref string, max int64) (*channels.Fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref, nil)
	if err != nil {
		return nil, channels.Permanent("The attachment address is not valid.")
	}
	return channels.Download(c.client, req, max)
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
