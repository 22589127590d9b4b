// Package telegram is the connector for the Telegram Bot API: webhooks
// authenticated by the X-Telegram-Bot-Api-Secret-Token header, getUpdates
// long polling for installs with no public URL, and sendMessage.
package telegram

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard/backend"
	"switchboard/channels"
)

// ID is the connector id.
const ID = "telegram"

// DefaultBaseURL is the Bot API.
const DefaultBaseURL = "https://api.telegram.org"

func init() {
	channels.Register(channels.Info{
		ID: ID, New: New, Secrets: []string{"botToken", "secretToken"}, ContentTypes: channels.JSON,
		Title: channels.T("Telegram", "Telegram"), Settings: settings, Testable: true, Webhook: true,
		Rate: 25, Burst: 25, // ~30 msgs/s overall per bot
	})
}

// Config is one bot.
type Config struct {
	BotToken channels.Secret `json:"botToken"`
	// SecretToken is the secret_token given to setWebhook; webhooks must
	// carry it. Required unless Mode is "polling".
	SecretToken channels.Secret `json:"secretToken,omitempty"`
	// Mode is "webhook" (default) or "polling" (getUpdates).
	Mode string `json:"mode,omitempty"`
	// PollTimeout is the long-poll wait in seconds (default 25).
	PollTimeout int `json:"pollTimeout,omitempty"`
}

// Connector is one configured bot.
type Connector struct {
	cfg    Config
	base   string
	client *http.Client
}

var (
	_ channels.Connector = (*Connector)(nil)
	_ channels.Poller    = (*Connector)(nil)
)

// New builds a connector from its configuration.
func New(p channels.Params) (channels.Connector, error) {
	c := &Connector{base: p.BaseURL, client: p.Client}
	if err := channels.DecodeConfig(p.Config, &c.cfg); err != nil {
		return nil, err
	}
	if c.cfg.BotToken == "" {
		return nil, backend.Errorf(backend.EInvalid, "A Telegram channel needs botToken.")
	}
	switch c.cfg.Mode {
	case "", "webhook":
		if c.cfg.SecretToken == "" {
			return nil, backend.Errorf(backend.EInvalid, "A Telegram webhook needs secretToken (set it with setWebhook's secret_token).")
		}
	case "polling":
	default:
		return nil, backend.Errorf(backend.EInvalid, "Telegram mode must be webhook or polling.")
	}
	if c.cfg.PollTimeout <= 0 {
		c.cfg.PollTimeout = 25
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	return c, nil
}

// Verify implements channels.Connector: the secret token, compared in
// constant time (Telegram sends it as is; there is no HMAC).
func (c *Connector) Verify(req *channels.Request) error {
	got := req.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if got == "" {
		return backend.Errorf(backend.EUnauthorized, "The X-Telegram-Bot-Api-Secret-Token header is missing.")
	}
	if !ValidSecret(c.cfg.SecretToken.Reveal(), got) {
		return backend.Errorf(backend.EForbidden, "The Telegram secret token does not match.")
	}
	return nil
}

// ValidSecret reports, in constant time, whether got is the secret.
func ValidSecret(secret, got string) bool {
	return secret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(got)) == 1
}

// Parse implements channels.Connector.
func (c *Connector) Parse(req *channels.Request) (*channels.Webhook, error) {
	return Parse(req.Body)
}

type user struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Username  string `json:"username"`
}

type file struct {
	FileID   string `json:"file_id"`
	FileName string `json:"file_name"`
	MimeType string `json:"mime_type"`
	FileSize int64  `json:"file_size"`
}

type message struct {
	MessageID int64 `json:"message_id"`
	From      *user `json:"from"`
	Chat      struct {
		ID int64 `json:"id"`
	} `json:"chat"`
	Date     int64  `json:"date"`
	Text     string `json:"text"`
	Caption  string `json:"caption"`
	Photo    []file `json:"photo"`
	Document *file  `json:"document"`
	Voice    *file  `json:"voice"`
	Video    *file  `json:"video"`
	Audio    *file  `json:"audio"`
}

type update struct {
	UpdateID      int64    `json:"update_id"`
	Message       *message `json:"message"`
	CallbackQuery *struct {
		ID      string   `json:"id"`
		From    user     `json:"from"`
		Message *message `json:"message"`
		Data    string   `json:"data"`
	} `json:"callback_query"`
}

// Parse normalizes one Update. Updates without a customer message (edits,
// channel posts, bots) carry nothing.
func Parse(body []byte) (*channels.Webhook, error) {
	var u update
	if err := json.Unmarshal(body, &u); err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The Telegram update is not valid JSON.")
	}
	wh := &channels.Webhook{}
	if in := normalize(&u, body); in != nil {
		wh.Messages = append(wh.Messages, in)
	}
	return wh, nil
}

func normalize(u *update, raw []byte) *backend.InboundMessage {
	if cq := u.CallbackQuery; cq != nil && cq.ID != "" && cq.From.ID != 0 {
		chat := cq.From.ID
		if cq.Message != nil {
			chat = cq.Message.Chat.ID
		}
		return &backend.InboundMessage{ExternalUserID: strconv.FormatInt(cq.From.ID, 10), DisplayName: name(&cq.From),
			ThreadKey: strconv.FormatInt(chat, 10), ExternalID: "cb:" + cq.ID, Text: cq.Data, Raw: raw}
	}
	m := u.Message
	if m == nil || m.From == nil || m.From.IsBot || m.From.ID == 0 {
		return nil
	}
	chat := strconv.FormatInt(m.Chat.ID, 10)
	in := &backend.InboundMessage{
		ExternalUserID: strconv.FormatInt(m.From.ID, 10), DisplayName: name(m.From), ThreadKey: chat,
		// message_id is unique per chat only.
		ExternalID: chat + ":" + strconv.FormatInt(m.MessageID, 10),
		Text:       m.Text, PlatformAt: time.Unix(m.Date, 0).UTC(), Raw: raw,
	}
	if in.Text == "" {
		in.Text = m.Caption
	}
	if n := len(m.Photo); n > 0 {
		p := m.Photo[n-1] // the largest size
		// Telegram's download URL holds the bot token, so attachments carry
		// no URL; the file_id stays in the stored update.
		in.Attachments = append(in.Attachments, backend.Attachment{Type: "image/jpeg", Size: p.FileSize})
	}
	for _, f := range []*file{m.Document, m.Voice, m.Video, m.Audio} {
		if f != nil && f.FileID != "" {
			in.Attachments = append(in.Attachments, backend.Attachment{Type: f.MimeType, Name: f.FileName, Size: f.FileSize})
		}
	}
	return in
}

func name(u *user) string {
	n := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if n == "" {
		n = u.Username
	}
	return n
}

// Send implements channels.Connector with sendMessage.
func (c *Connector) Send(ctx context.Context, out *channels.Outbound) (*channels.Sent, error) {
	text := out.Text
	for _, a := range out.Attachments {
		text = strings.TrimSpace(text + "\n" + a.URL)
	}
	chatID, err := strconv.ParseInt(out.ThreadKey, 10, 64)
	if err != nil {
		return nil, channels.Permanent("The conversation has no Telegram chat id.")
	}
	var res struct {
		MessageID int64 `json:"message_id"`
		Chat      struct {
			ID int64 `json:"id"`
		} `json:"chat"`
	}
	if err := c.call(ctx, "sendMessage", map[string]any{"chat_id": chatID, "text": text}, &res); err != nil {
		return nil, err
	}
	return &channels.Sent{ExternalID: strconv.FormatInt(res.Chat.ID, 10) + ":" + strconv.FormatInt(res.MessageID, 10), Status: backend.DeliverySent}, nil
}

// call posts a Bot API method and decodes result. Errors are *SendError,
// with retry_after from a 429's parameters.
func (c *Connector) call(ctx context.Context, method string, params any, result any) error {
	b, _ := json.Marshal(params)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/bot"+c.cfg.BotToken.Reveal()+"/"+method, bytes.NewReader(b))
	if err != nil {
		return channels.Permanent("The Telegram request could not be built.")
	}
	req.Header.Set("Content-Type", "application/json")
	body, _, err := channels.Do(c.client, req, nil)
	var env struct {
		OK          bool            `json:"ok"`
		Result      json.RawMessage `json:"result"`
		ErrorCode   int             `json:"error_code"`
		Description string          `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	jerr := json.Unmarshal(body, &env)
	var se *channels.SendError
	if errors.As(err, &se) {
		if env.Description != "" {
			se.Reason = "Telegram: " + env.Description
		}
		if env.Parameters.RetryAfter > 0 {
			se.RetryAfter = time.Duration(env.Parameters.RetryAfter) * time.Second
		}
		return se
	} else if err != nil {
		return err
	}
	if jerr != nil || !env.OK {
		return &channels.SendError{InDoubt: true, Reason: "Telegram's answer was not ok."}
	}
	if result != nil {
		json.Unmarshal(env.Result, result)
	}
	return nil
}

// Polling implements channels.Poller.
func (c *Connector) Polling() bool { return c.cfg.Mode == "polling" }

// Poll implements channels.Poller with getUpdates: updates are confirmed
// (by asking for a higher offset) only after deliver stored them, so a
// crash re-fetches what was not stored. Telegram keeps unconfirmed updates
// for 24 hours, so no offset needs persisting.
func (c *Connector) Poll(ctx context.Context, deliver func(context.Context, *channels.Webhook) error) error {
	var offset int64
	for ctx.Err() == nil {
		var updates []json.RawMessage
		params := map[string]any{"offset": offset, "timeout": c.cfg.PollTimeout, "limit": 100,
			"allowed_updates": []string{"message", "callback_query"}}
		if err := c.call(ctx, "getUpdates", params, &updates); err != nil {
			return err
		}
		wh := &channels.Webhook{}
		next := offset
		for _, raw := range updates {
			var u update
			if err := json.Unmarshal(raw, &u); err != nil {
				continue
			}
			if in := normalize(&u, raw); in != nil {
				wh.Messages = append(wh.Messages, in)
			}
			next = max(next, u.UpdateID+1)
		}
		if err := deliver(ctx, wh); err != nil {
			return err
		}
		offset = next
	}
	return ctx.Err()
}

var _ channels.Tester = (*Connector)(nil)

// TestConnection implements channels.Tester with getMe, which Telegram
// answers with the bot's user when the token is good (401 otherwise).
func (c *Connector) TestConnection(ctx context.Context) (string, error) {
	var me user
	if err := c.call(ctx, "getMe", map[string]any{}, &me); err != nil {
		return "", channels.TestError("Telegram", err)
	}
	if !me.IsBot || me.ID == 0 {
		return "", backend.Errorf(backend.EInvalid, "Telegram's getMe did not describe a bot.")
	}
	return "Telegram bot @" + me.Username + " (" + name(&me) + ")", nil
}
