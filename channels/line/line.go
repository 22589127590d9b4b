// Package line is the connector for the LINE Messaging API: webhooks signed
// with x-line-signature (base64 HMAC-SHA256 of the raw body), replies with
// the event's reply token while it is fresh and unused, else push messages
// with an X-Line-Retry-Key so a retried push is accepted once.
package line

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"switchboard/backend"
	"switchboard/channels"
)

// ID is the connector id.
const ID = "line"

// Base URLs of the Messaging API.
const (
	DefaultBaseURL     = "https://api.line.me"
	DefaultDataBaseURL = "https://api-data.line.me"
)

// ReplyTTL is how long after an event its reply token is tried.
const ReplyTTL = 50 * time.Second

func init() {
	channels.Register(channels.Info{
		ID: ID, New: New, Secrets: []string{"channelSecret", "channelAccessToken"}, ContentTypes: channels.JSON,
		Title: channels.T("LINE", "LINE"), Settings: settings, Testable: true, Webhook: true,
		Rate: 100, Burst: 100, // far under 2,000 req/s per channel
		// LINE fetches images from public HTTPS addresses: JPEG or PNG,
		// and the same file serves as the preview, which may be 1 MB at
		// most. Bots cannot send files, and video or audio needs a preview
		// image or a duration the engine does not have.
		Media: channels.MediaLimits{MaxFiles: 4, NeedsLink: true, Kinds: []channels.MediaKind{
			{Name: "images (JPEG, PNG)", Types: []string{"image/jpeg", "image/png"}, MaxBytes: 1 << 20},
		}},
	})
}

// Config is one LINE Official Account channel.
type Config struct {
	ChannelSecret      channels.Secret `json:"channelSecret"`
	ChannelAccessToken channels.Secret `json:"channelAccessToken"`
}

// Connector is one configured LINE channel.
type Connector struct {
	cfg    Config
	base   string
	data   string // the content API's base (api-data.line.me)
	client *http.Client
	now    func() time.Time

	mu   sync.Mutex
	used map[string]time.Time // reply tokens spent
}

var (
	_ channels.Connector        = (*Connector)(nil)
	_ channels.IdempotentSender = (*Connector)(nil)
	_ channels.MediaFetcher     = (*Connector)(nil)
)

// New builds a connector from its configuration.
func New(p channels.Params) (channels.Connector, error) {
	c := &Connector{base: p.BaseURL, client: p.Client, now: p.Now, used: map[string]time.Time{}}
	if err := channels.DecodeConfig(p.Config, &c.cfg); err != nil {
		return nil, err
	}
	if c.cfg.ChannelSecret == "" || c.cfg.ChannelAccessToken == "" {
		return nil, backend.Errorf(backend.EInvalid, "A LINE channel needs channelSecret and channelAccessToken.")
	}
	c.data = c.base // a test's fake serves both
	if c.base == "" {
		c.base, c.data = DefaultBaseURL, DefaultDataBaseURL
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// IdempotentSends implements channels.IdempotentSender: pushes carry
// X-Line-Retry-Key.
func (c *Connector) IdempotentSends() bool { return true }

// Sign returns the x-line-signature of body.
func Sign(channelSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(channelSecret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidSignature reports, in constant time, whether sig signs body.
func ValidSignature(channelSecret string, body []byte, sig string) bool {
	return channelSecret != "" && sig != "" && hmac.Equal([]byte(sig), []byte(Sign(channelSecret, body)))
}

// Verify implements channels.Connector.
func (c *Connector) Verify(req *channels.Request) error {
	sig := req.Header.Get("X-Line-Signature")
	if sig == "" {
		return backend.Errorf(backend.EUnauthorized, "The x-line-signature header is missing.")
	}
	if !ValidSignature(c.cfg.ChannelSecret.Reveal(), req.Body, sig) {
		return backend.Errorf(backend.EForbidden, "The LINE signature does not match.")
	}
	return nil
}

// Parse implements channels.Connector.
func (c *Connector) Parse(req *channels.Request) (*channels.Webhook, error) {
	return Parse(req.Body)
}

type event struct {
	Type       string `json:"type"`
	Timestamp  int64  `json:"timestamp"`
	ReplyToken string `json:"replyToken"`
	Source     struct {
		Type    string `json:"type"`
		UserID  string `json:"userId"`
		GroupID string `json:"groupId"`
		RoomID  string `json:"roomId"`
	} `json:"source"`
	WebhookEventID string `json:"webhookEventId"`
	Message        struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Text     string `json:"text"`
		FileName string `json:"fileName"`
		FileSize int64  `json:"fileSize"`
		Title    string `json:"title"`
		Address  string `json:"address"`
	} `json:"message"`
	Postback struct {
		Data string `json:"data"`
	} `json:"postback"`
}

// Parse normalizes a LINE webhook. An empty events list (the console's
// "Verify") is valid and carries nothing. Images, video, audio and files
// are named by their message id, which the engine fetches them with.
func Parse(body []byte) (*channels.Webhook, error) {
	var p struct {
		Destination string            `json:"destination"`
		Events      []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The LINE webhook is not valid JSON.")
	}
	wh := &channels.Webhook{}
	for _, raw := range p.Events {
		var ev event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, backend.Errorf(backend.EInvalid, "A LINE event is malformed.")
		}
		thread := ev.Source.UserID
		if ev.Source.GroupID != "" {
			thread = ev.Source.GroupID
		} else if ev.Source.RoomID != "" {
			thread = ev.Source.RoomID
		}
		sender := ev.Source.UserID
		if sender == "" {
			sender = thread
		}
		if sender == "" {
			continue
		}
		in := &backend.InboundMessage{ExternalUserID: sender, ThreadKey: thread, PlatformAt: time.UnixMilli(ev.Timestamp).UTC(), Raw: raw}
		switch ev.Type {
		case "message":
			if ev.Message.ID == "" {
				return nil, backend.Errorf(backend.EInvalid, "A LINE message has no id.")
			}
			in.ExternalID = ev.Message.ID
			switch ev.Message.Type {
			case "text":
				in.Text = ev.Message.Text
			case "image", "video", "audio", "file":
				in.Attachments = []backend.Attachment{{Ref: ev.Message.ID, Type: ev.Message.Type, Name: ev.Message.FileName, Size: ev.Message.FileSize}}
			case "location":
				in.Text = strings.TrimSpace(ev.Message.Title + " " + ev.Message.Address)
			default:
				in.Text = "[" + ev.Message.Type + "]"
			}
		case "postback":
			if ev.WebhookEventID == "" {
				continue
			}
			in.ExternalID, in.Text = "postback:"+ev.WebhookEventID, ev.Postback.Data
		default:
			continue // follow, unfollow, join, unsend… carry no message
		}
		wh.Messages = append(wh.Messages, in)
	}
	return wh, nil
}

// Send implements channels.Connector.
func (c *Connector) Send(ctx context.Context, out *channels.Outbound) (*channels.Sent, error) {
	msgs := []map[string]any{}
	if out.Text != "" {
		msgs = append(msgs, map[string]any{"type": "text", "text": out.Text})
	}
	for _, a := range out.Attachments {
		if _, kept := backend.MediaIDFromPath(a.URL); kept {
			continue
		}
		if strings.HasPrefix(a.Type, "image") && len(msgs) < 5 {
			msgs = append(msgs, map[string]any{"type": "image", "originalContentUrl": a.URL, "previewImageUrl": a.URL})
		} else if len(msgs) < 5 {
			msgs = append(msgs, map[string]any{"type": "text", "text": a.URL})
		}
	}
	for _, f := range out.Files {
		if len(msgs) == 5 {
			return nil, channels.Permanent("LINE takes at most 5 messages at once: send the text and the images in separate replies.")
		}
		// LINE fetches the image from the engine's public link.
		msgs = append(msgs, map[string]any{"type": "image", "originalContentUrl": f.Link, "previewImageUrl": f.Link})
	}
	token := c.freshReplyToken(out.LastInbound)
	if token != "" && out.InDoubt {
		// The interrupted attempt probably spent the token on a reply; a
		// push now could repeat it.
		return nil, channels.Permanent("Sending was interrupted while replying on LINE; the reply was not repeated.")
	}
	if token != "" {
		c.mu.Lock()
		c.used[token] = c.now()
		c.mu.Unlock()
		sent, err := c.call(ctx, "/v2/bot/message/reply", "", map[string]any{"replyToken": token, "messages": msgs})
		var se *channels.SendError
		if err == nil {
			return sent, nil
		} else if !errors.As(err, &se) || se.Status != http.StatusBadRequest || !strings.Contains(strings.ToLower(se.Reason), "reply token") {
			if se != nil && se.InDoubt {
				se.Permanent = true // a reply token cannot be retried safely
			}
			return nil, err
		}
		// Invalid or expired token: push instead.
	}
	return c.call(ctx, "/v2/bot/message/push", out.IdempotencyKey, map[string]any{"to": out.ThreadKey, "messages": msgs})
}

// freshReplyToken returns the last event's reply token while it is young
// and unused.
func (c *Connector) freshReplyToken(last *backend.InboundRef) string {
	if last == nil || len(last.Raw) == 0 {
		return ""
	}
	var ev event
	if json.Unmarshal(last.Raw, &ev) != nil || ev.ReplyToken == "" {
		return ""
	}
	now := c.now()
	if now.Sub(time.UnixMilli(ev.Timestamp)) > ReplyTTL {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for t, at := range c.used {
		if now.Sub(at) > time.Hour {
			delete(c.used, t)
		}
	}
	if _, spent := c.used[ev.ReplyToken]; spent {
		return ""
	}
	return ev.ReplyToken
}

func (c *Connector) call(ctx context.Context, path, retryKey string, body any) (*channels.Sent, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return nil, channels.Permanent("The LINE request could not be built.")
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.ChannelAccessToken.Reveal())
	req.Header.Set("Content-Type", "application/json")
	if retryKey != "" {
		req.Header.Set("X-Line-Retry-Key", retryKey)
	}
	resp, hr, err := channels.Do(c.client, req, errorReason)
	var se *channels.SendError
	if errors.As(err, &se) && se.Status == http.StatusConflict && retryKey != "" {
		// Accepted by an earlier attempt with this retry key.
		return &channels.Sent{ExternalID: hr.Header.Get("X-Line-Accepted-Request-Id"), Status: backend.DeliverySent}, nil
	} else if err != nil {
		return nil, err
	}
	var res struct {
		SentMessages []struct {
			ID string `json:"id"`
		} `json:"sentMessages"`
	}
	json.Unmarshal(resp, &res)
	sent := &channels.Sent{Status: backend.DeliverySent}
	if len(res.SentMessages) > 0 {
		sent.ExternalID = res.SentMessages[0].ID
	}
	return sent, nil
}

// FetchMedia implements channels.MediaFetcher with the content API
// (GET /v2/bot/message/{id}/content on api-data.line.me, bearer token).
// LINE answers 202 while it still prepares a video or audio file.
func (c *Connector) FetchMedia(ctx context.Context, ref string, max int64) (*channels.Fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.data+"/v2/bot/message/"+url.PathEscape(ref)+"/content", nil)
	if err != nil {
		return nil, channels.Permanent("The LINE message id is not valid.")
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.ChannelAccessToken.Reveal())
	got, err := channels.Download(c.client, req, max)
	var se *channels.SendError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		se.Reason = "LINE no longer has this file (content is kept for a limited time)."
	}
	return got, err
}

func errorReason(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil || e.Message == "" {
		return ""
	}
	return "LINE: " + e.Message
}

var _ channels.Tester = (*Connector)(nil)

// TestConnection implements channels.Tester with GET /v2/bot/info, which
// LINE answers with the bot's name when the channel access token is good.
func (c *Connector) TestConnection(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v2/bot/info", nil)
	if err != nil {
		return "", backend.Errorf(backend.EInvalid, "The LINE request could not be built.")
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.ChannelAccessToken.Reveal())
	body, _, err := channels.Do(c.client, req, errorReason)
	if err != nil {
		return "", channels.TestError("LINE", err)
	}
	var info struct {
		UserID      string `json:"userId"`
		BasicID     string `json:"basicId"`
		DisplayName string `json:"displayName"`
	}
	if json.Unmarshal(body, &info) != nil || info.UserID == "" {
		return "", backend.Errorf(backend.EUnavailable, "LINE's bot information could not be read.")
	}
	return "LINE bot " + info.DisplayName + " (" + info.BasicID + ")", nil
}
