// Package discord is the connector for Discord bots: a Gateway client over
// WebSocket that receives direct messages (and messages in configured guild
// channels) as a channels.Poller, and replies through the REST API with the
// bot token, honouring Discord's rate-limit headers and 429s.
package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"switchboard/backend"
	"switchboard/channels"
)

// ID is the connector id.
const ID = "discord"

// DefaultBaseURL is Discord's REST API.
const DefaultBaseURL = "https://discord.com/api/v10"

// Intents asks for GUILDS, GUILD_MESSAGES, DIRECT_MESSAGES and the
// privileged MESSAGE_CONTENT (enable it in the developer portal).
const Intents = 1 | 1<<9 | 1<<12 | 1<<15 // 37377

// MaxContent is the longest message Discord accepts; longer replies are
// sent in parts.
const MaxContent = 2000

func init() {
	channels.Register(channels.Info{ID: ID, New: New, Secrets: []string{"botToken"}, Rate: 5, Burst: 5,
		Title: channels.T("Discord", "Discord"), Settings: settings, Testable: true,
		// Up to 10 files per message, 10 MiB each without server boosts.
		Media: channels.MediaLimits{MaxFiles: 10, Kinds: []channels.MediaKind{{Name: "files", Types: []string{"*"}, MaxBytes: 10 << 20}}}})
}

// Config is one bot.
type Config struct {
	BotToken channels.Secret `json:"botToken"`
	// GuildChannels lists guild (server) channel ids whose messages become
	// conversations too; direct messages always do.
	GuildChannels []string `json:"guildChannels,omitempty"`
}

// Connector is one configured bot.
type Connector struct {
	cfg    Config
	guilds map[string]bool
	base   string
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
	after  func(time.Duration) <-chan time.Time // heartbeat timer

	mu      sync.Mutex
	buckets map[string]time.Time // route (channel id) → when sending may resume
}

var (
	_ channels.Connector    = (*Connector)(nil)
	_ channels.Poller       = (*Connector)(nil)
	_ channels.MediaFetcher = (*Connector)(nil)
)

// New builds a connector from its configuration.
func New(p channels.Params) (channels.Connector, error) {
	c := &Connector{base: p.BaseURL, client: p.Client, log: p.Logger, now: p.Now, after: p.After, guilds: map[string]bool{}, buckets: map[string]time.Time{}}
	if err := channels.DecodeConfig(p.Config, &c.cfg); err != nil {
		return nil, err
	}
	if c.cfg.BotToken == "" {
		return nil, backend.Errorf(backend.EInvalid, "A Discord channel needs botToken.")
	}
	for _, g := range c.cfg.GuildChannels {
		c.guilds[g] = true
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	c.base = strings.TrimRight(c.base, "/")
	if c.client == nil {
		c.client = http.DefaultClient
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.after == nil {
		c.after = time.After
	}
	return c, nil
}

// Verify implements channels.Connector: this connector receives over the
// Gateway, never by webhook.
func (c *Connector) Verify(req *channels.Request) error {
	return backend.Errorf(backend.EForbidden, "Discord messages arrive over the Gateway, not by webhook.")
}

// Parse implements channels.Connector.
func (c *Connector) Parse(req *channels.Request) (*channels.Webhook, error) {
	return nil, backend.Errorf(backend.EInvalid, "Discord messages arrive over the Gateway, not by webhook.")
}

// Polling implements channels.Poller: a bot always holds a Gateway session.
func (c *Connector) Polling() bool { return true }

func (c *Connector) newRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bot "+c.cfg.BotToken.Reveal())
	req.Header.Set("User-Agent", "DiscordBot (https://github.com/switchboard, 1.0)")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// Send implements channels.Connector with POST /channels/{id}/messages.
// Replies longer than MaxContent go in parts; the first part's id is the
// message's external id. Kept files are uploaded with the last part
// (multipart: payload_json and files[n]).
func (c *Connector) Send(ctx context.Context, out *channels.Outbound) (*channels.Sent, error) {
	if out.ThreadKey == "" {
		return nil, channels.Permanent("The conversation has no Discord channel.")
	}
	text := out.Text
	for _, a := range out.Attachments {
		if _, kept := backend.MediaIDFromPath(a.URL); !kept {
			text = strings.TrimSpace(text + "\n" + a.URL)
		}
	}
	var first string
	parts := split(text, MaxContent)
	for i, part := range parts {
		var files []channels.File
		if i == len(parts)-1 {
			files = out.Files
		}
		id, err := c.post(ctx, out.ThreadKey, part, files)
		if err != nil {
			if i > 0 {
				err.InDoubt, err.Reason = true, "Only part of the reply was sent: "+err.Reason
			}
			return nil, err
		}
		if first == "" {
			first = id
		}
	}
	return &channels.Sent{ExternalID: first, Status: backend.DeliverySent}, nil
}

// post sends one message (with files, as multipart), waiting out a known
// empty rate-limit bucket.
func (c *Connector) post(ctx context.Context, channel, content string, files []channels.File) (string, *channels.SendError) {
	now := c.now()
	c.mu.Lock()
	resume := c.buckets[channel]
	c.mu.Unlock()
	if resume.After(now) {
		return "", &channels.SendError{Status: http.StatusTooManyRequests, RetryAfter: resume.Sub(now), Reason: "Discord's rate limit for this channel is used up."}
	}
	payload := map[string]any{"content": content, "allowed_mentions": map[string]any{"parse": []string{}}}
	var req *http.Request
	var err error
	if len(files) == 0 {
		req, err = c.newRequest(ctx, http.MethodPost, "/channels/"+channel+"/messages", payload)
	} else {
		var parts []channels.FilePart
		var described []map[string]any
		for i, f := range files {
			parts = append(parts, channels.FilePart{Field: fmt.Sprintf("files[%d]", i), File: f})
			described = append(described, map[string]any{"id": i, "filename": f.Name})
		}
		payload["attachments"] = described
		pj, _ := json.Marshal(payload)
		body, ctype := channels.Multipart([]string{"payload_json", string(pj)}, parts...)
		if req, err = c.newRequest(ctx, http.MethodPost, "/channels/"+channel+"/messages", nil); err == nil {
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
			req.Header.Set("Content-Type", ctype)
		}
	}
	if err != nil {
		return "", channels.Permanent("The Discord request could not be built.")
	}
	body, resp, err := channels.Do(c.client, req, reason)
	if resp != nil {
		c.track(channel, resp.Header, now)
	}
	if se, ok := err.(*channels.SendError); ok {
		if se.Status == http.StatusTooManyRequests {
			var rl struct {
				RetryAfter float64 `json:"retry_after"`
			}
			json.Unmarshal(body, &rl)
			if d := time.Duration(rl.RetryAfter * float64(time.Second)); d > se.RetryAfter {
				se.RetryAfter = d
			}
			if se.RetryAfter <= 0 {
				se.RetryAfter = time.Second
			}
		}
		return "", se
	}
	var m struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &m) != nil || m.ID == "" {
		return "", &channels.SendError{Status: resp.StatusCode, InDoubt: true, Reason: "Discord's answer had no message id."}
	}
	return m.ID, nil
}

// track remembers an exhausted bucket (X-RateLimit-Remaining: 0) until its
// X-RateLimit-Reset-After.
func (c *Connector) track(channel string, h http.Header, now time.Time) {
	if h.Get("X-RateLimit-Remaining") != "0" {
		return
	}
	secs, err := strconv.ParseFloat(h.Get("X-RateLimit-Reset-After"), 64)
	if err != nil || secs <= 0 || secs > 3600 {
		return
	}
	c.mu.Lock()
	c.buckets[channel] = now.Add(time.Duration(secs * float64(time.Second)))
	c.mu.Unlock()
}

func reason(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return "Discord: " + e.Message
	}
	return ""
}

// split cuts s into parts of at most n runes, preferring line breaks.
func split(s string, n int) []string {
	var parts []string
	for utf8.RuneCountInString(s) > n {
		r := []rune(s)
		cut := n
		if i := strings.LastIndex(string(r[:n]), "\n"); i > 0 {
			cut = utf8.RuneCountInString(string(r[:n])[:i])
		}
		parts = append(parts, string(r[:cut]))
		s = strings.TrimLeft(string(r[cut:]), "\n")
	}
	if s != "" || len(parts) == 0 {
		parts = append(parts, s)
	}
	return parts
}

var _ channels.Tester = (*Connector)(nil)

// TestConnection implements channels.Tester: GET /users/@me proves the bot
// token (401 otherwise) and GET /gateway/bot that the bot may open a
// Gateway session, with how many session starts remain today.
func (c *Connector) TestConnection(ctx context.Context) (string, error) {
	var me struct {
		ID            string `json:"id"`
		Username      string `json:"username"`
		Discriminator string `json:"discriminator"`
		Bot           bool   `json:"bot"`
	}
	if err := c.getJSON(ctx, "/users/@me", &me); err != nil {
		return "", channels.TestError("Discord", err)
	}
	if !me.Bot {
		return "", backend.Errorf(backend.EInvalid, "The token belongs to %s, who is not a bot user.", me.Username)
	}
	var gw struct {
		URL               string `json:"url"`
		SessionStartLimit struct {
			Remaining int `json:"remaining"`
		} `json:"session_start_limit"`
	}
	if err := c.getJSON(ctx, "/gateway/bot", &gw); err != nil {
		return "", channels.TestError("Discord", err)
	}
	if gw.URL == "" {
		return "", backend.Errorf(backend.EUnavailable, "Discord gave no Gateway address.")
	}
	return fmt.Sprintf("Discord bot %s (%s); Gateway reachable, %d session starts left today", me.Username, me.ID, gw.SessionStartLimit.Remaining), nil
}

// FetchMedia implements channels.MediaFetcher: attachments are on
// Discord's CDN at signed addresses that expire (ex=…); an expired one is
// refreshed with POST /attachments/refresh-urls and fetched again.
func (c *Connector) FetchMedia(ctx context.Context, ref string, max int64) (*channels.Fetched, error) {
	get := func(u string) (*channels.Fetched, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, channels.Permanent("The Discord attachment address is not valid.")
		}
		req.Header.Set("User-Agent", "DiscordBot (https://github.com/switchboard, 1.0)")
		return channels.Download(c.client, req, max)
	}
	got, err := get(ref)
	var se *channels.SendError
	if !errors.As(err, &se) || (se.Status != http.StatusNotFound && se.Status != http.StatusForbidden) {
		return got, err
	}
	req, rerr := c.newRequest(ctx, http.MethodPost, "/attachments/refresh-urls", map[string]any{"attachment_urls": []string{ref}})
	if rerr != nil {
		return nil, err
	}
	body, _, rerr := channels.Do(c.client, req, reason)
	var res struct {
		Refreshed []struct {
			Original  string `json:"original"`
			Refreshed string `json:"refreshed"`
		} `json:"refreshed_urls"`
	}
	if rerr != nil || json.Unmarshal(body, &res) != nil || len(res.Refreshed) == 0 || res.Refreshed[0].Refreshed == "" {
		return nil, err
	}
	return get(res.Refreshed[0].Refreshed)
}

func (c *Connector) getJSON(ctx context.Context, path string, out any) error {
	req, err := c.newRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	body, _, err := channels.Do(c.client, req, reason)
	if err != nil {
		return err
	}
	if json.Unmarshal(body, out) != nil {
		return backend.Errorf(backend.EUnavailable, "Discord's answer to %s could not be read.", path)
	}
	return nil
}
