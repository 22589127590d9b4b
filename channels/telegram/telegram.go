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
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
		// Bots upload photos up to 10 MB and other files up to 50 MB, one
		// file per call.
		Media: channels.MediaLimits{MaxFiles: 10, Kinds: []channels.MediaKind{
			{Name: "photos", Types: []string{"image/jpeg", "image/png", "image/webp"}, MaxBytes: 10 << 20},
			{Name: "files", Types: []string{"*"}, MaxBytes: 50 << 20},
		}},
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
	_ channels.Connector    = (*Connector)(nil)
	_ channels.Poller       = (*Connector)(nil)
	_ channels.MediaFetcher = (*Connector)(nil)
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
	Date      int64  `json:"date"`
	Text      string `json:"text"`
	Caption   string `json:"caption"`
	Photo     []file `json:"photo"`
	Document  *file  `json:"document"`
	Voice     *file  `json:"voice"`
	Video     *file  `json:"video"`
	Audio     *file  `json:"audio"`
	Animation *file  `json:"animation"`
	VideoNote *file  `json:"video_note"`
	Sticker   *file  `json:"sticker"`
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
	// Files are fetched with getFile and the bot token (which the download
	// address holds), so attachments carry the file_id to fetch them with.
	if n := len(m.Photo); n > 0 && m.Photo[n-1].FileID != "" {
		p := m.Photo[n-1] // the largest size
		in.Attachments = append(in.Attachments, backend.Attachment{Ref: p.FileID, Type: "image/jpeg", Name: "photo.jpg", Size: p.FileSize})
	}
	for _, f := range []*file{m.Document, m.Voice, m.Video, m.Audio, m.Animation, m.VideoNote, m.Sticker} {
		if f != nil && f.FileID != "" {
			in.Attachments = append(in.Attachments, backend.Attachment{Ref: f.FileID, Type: f.MimeType, Name: f.FileName, Size: f.FileSize})
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

// captionMax is the longest caption Telegram puts under a file.
const captionMax = 1024

// sentMessage is the part of a sent Message the connector reads.
type sentMessage struct {
	MessageID int64 `json:"message_id"`
	Chat      struct {
		ID int64 `json:"id"`
	} `json:"chat"`
}

func (m *sentMessage) id() string {
	return strconv.FormatInt(m.Chat.ID, 10) + ":" + strconv.FormatInt(m.MessageID, 10)
}

// Send implements channels.Connector: sendMessage for text (with links to
// other sites' files), and each kept file uploaded with sendPhoto, sendVideo
// or sendDocument, the text as the first file's caption when it fits.
func (c *Connector) Send(ctx context.Context, out *channels.Outbound) (*channels.Sent, error) {
	text := out.Text
	for _, a := range out.Attachments {
		if _, kept := backend.MediaIDFromPath(a.URL); !kept {
			text = strings.TrimSpace(text + "\n" + a.URL)
		}
	}
	chatID, err := strconv.ParseInt(out.ThreadKey, 10, 64)
	if err != nil {
		return nil, channels.Permanent("The conversation has no Telegram chat id.")
	}
	var first string
	if text != "" && (len(out.Files) == 0 || utf8.RuneCountInString(text) > captionMax) {
		var res sentMessage
		if err := c.call(ctx, "sendMessage", map[string]any{"chat_id": chatID, "text": text}, &res); err != nil {
			return nil, err
		}
		first, text = res.id(), ""
	}
	for i, f := range out.Files {
		method, field := "sendDocument", "document"
		switch {
		case strings.HasPrefix(f.Type, "image/") && f.Type != "image/gif" && f.Size <= 10<<20:
			method, field = "sendPhoto", "photo"
		case f.Type == "video/mp4":
			method, field = "sendVideo", "video"
		}
		fields := []string{"chat_id", strconv.FormatInt(chatID, 10)}
		if text != "" {
			fields, text = append(fields, "caption", text), ""
		}
		body, ctype := channels.Multipart(fields, channels.FilePart{Field: field, File: f})
		var res sentMessage
		if err := c.post(ctx, method, ctype, body, &res); err != nil {
			var se *channels.SendError
			if (first != "" || i > 0) && errors.As(err, &se) {
				se.InDoubt, se.Reason = true, "Only part of the reply was sent: "+se.Reason
			}
			return nil, err
		}
		if first == "" {
			first = res.id()
		}
	}
	return &channels.Sent{ExternalID: first, Status: backend.DeliverySent}, nil
}

// call posts a Bot API method with JSON parameters and decodes result.
// Errors are *SendError, with retry_after from a 429's parameters.
func (c *Connector) call(ctx context.Context, method string, params any, result any) error {
	b, _ := json.Marshal(params)
	return c.post(ctx, method, "application/json", b, result)
}

// post sends a Bot API method's body (JSON or multipart) and decodes result.
func (c *Connector) post(ctx context.Context, method, ctype string, b []byte, result any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/bot"+c.cfg.BotToken.Reveal()+"/"+method, bytes.NewReader(b))
	if err != nil {
		return channels.Permanent("The Telegram request could not be built.")
	}
	req.Header.Set("Content-Type", ctype)
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

// pollState is what the poller keeps between runs.
type pollState struct {
	Offset int64 `json:"offset"`
}

// Poll implements channels.Poller with getUpdates: updates are confirmed
// (by asking for a higher offset) only after they were stored, so a crash
// re-fetches what was not stored, and the offset is saved after each
// batch, so a restart asks for what arrived meanwhile (Telegram keeps
// unconfirmed updates for 24 hours). A token Telegram refuses (401, 404)
// or a webhook set on the bot (409) stops polling: retrying cannot help.
func (c *Connector) Poll(ctx context.Context, link channels.PollLink) error {
	var st pollState
	if raw, err := link.State(ctx); err != nil {
		return err
	} else if raw != nil {
		json.Unmarshal(raw, &st)
	}
	offset := st.Offset
	for connected := false; ctx.Err() == nil; {
		var updates []json.RawMessage
		params := map[string]any{"offset": offset, "timeout": c.cfg.PollTimeout, "limit": 100,
			"allowed_updates": []string{"message", "callback_query"}}
		if err := c.call(ctx, "getUpdates", params, &updates); err != nil {
			return finalPollError(err)
		}
		if !connected {
			connected = true
			link.Connected()
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
		if err := link.Deliver(ctx, wh); err != nil {
			return err
		}
		if next != offset {
			offset = next
			b, _ := json.Marshal(pollState{Offset: offset})
			if err := link.SaveState(ctx, b); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// finalPollError marks the getUpdates answers retrying cannot fix.
func finalPollError(err error) error {
	var se *channels.SendError
	if !errors.As(err, &se) {
		return err
	}
	switch se.Status {
	case http.StatusUnauthorized, http.StatusNotFound:
		return &channels.FinalError{Reason: "Telegram refused the bot token (" + se.Reason + "); it may have been revoked. Paste the current token from @BotFather and save the channel.", Err: err}
	case http.StatusConflict:
		return &channels.FinalError{Reason: "Telegram will not hand out updates while a webhook is set for this bot (" + se.Reason + "). Remove the webhook (deleteWebhook) or switch the channel to webhook mode.", Err: err}
	}
	return err
}

// FetchMedia implements channels.MediaFetcher: getFile names the file's
// path, then it is downloaded from /file/bot<token>/<path> (bots may
// download files up to 20 MB).
func (c *Connector) FetchMedia(ctx context.Context, ref string, max int64) (*channels.Fetched, error) {
	var f struct {
		FileSize int64  `json:"file_size"`
		FilePath string `json:"file_path"`
	}
	if err := c.call(ctx, "getFile", map[string]any{"file_id": ref}, &f); err != nil {
		return nil, err
	}
	if f.FilePath == "" {
		return nil, channels.Permanent("Telegram gave no download path for the file.")
	}
	if f.FileSize > max {
		return nil, channels.Permanent("The file is larger than the engine keeps.")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/file/bot"+c.cfg.BotToken.Reveal()+"/"+f.FilePath, nil)
	if err != nil {
		return nil, channels.Permanent("The Telegram file address could not be built.")
	}
	got, err := channels.Download(c.client, req, max)
	if err != nil {
		return nil, err
	}
	if got.Type == "application/octet-stream" {
		got.Type = "" // Telegram serves every file so; the store sniffs
	}
	if got.Name == "" {
		got.Name = path.Base(f.FilePath)
	}
	return got, nil
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
