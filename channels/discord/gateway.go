package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend"
	"switchboard/channels"
)

// session is what survives a dropped connection and a restart: the
// Gateway session (enough to Resume) and, per channel a customer wrote in,
// the newest message stored from it (to backfill through REST when the
// session cannot be resumed). It is the poller's saved state.
type session struct {
	ID        string `json:"sessionId,omitempty"`
	ResumeURL string `json:"resumeUrl,omitempty"`
	Seq       int64  `json:"seq,omitempty"` // last dispatch stored (0: none)
	BotID     string `json:"botId,omitempty"`
	// Channels maps a channel id to the newest message id stored from it.
	Channels map[string]string `json:"channels,omitempty"`
	// backfill is set when the session was lost: once a new one is ready,
	// the known channels are read for what was missed.
	backfill bool
	// live is set once a connection reached READY or RESUMED.
	live bool
}

// maxKnownChannels bounds how many channels a session remembers.
const maxKnownChannels = 1000

// seen records a stored message as the newest of its channel.
func (s *session) seen(channel, id string) {
	if s.Channels == nil {
		s.Channels = map[string]string{}
	}
	if old, ok := s.Channels[channel]; !ok || snowflakeLess(old, id) {
		s.Channels[channel] = id
	}
	for len(s.Channels) > maxKnownChannels { // forget the quietest channel
		var quiet string
		for ch, last := range s.Channels {
			if quiet == "" || snowflakeLess(last, s.Channels[quiet]) {
				quiet = ch
			}
		}
		delete(s.Channels, quiet)
	}
}

// snowflakeLess orders Discord ids (decimal numbers as strings).
func snowflakeLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// Reasons a connection ended, which decide how Poll reconnects.
var (
	errResume     = errors.New("discord: reconnect and resume")
	errReidentify = errors.New("discord: reconnect and identify")
)

// fatalError is a close code after which reconnecting cannot help (bad
// token, disallowed intents…).
type fatalError struct{ code int }

func (e *fatalError) Error() string { return fmt.Sprintf("discord: gateway closed with %d", e.code) }

// closeAction classifies a Gateway close code as Discord documents it.
func closeAction(code int) error {
	switch code {
	case 4004, 4010, 4011, 4012, 4013, 4014:
		return &fatalError{code}
	case 4001, 4003, 4005, 4007, 4009:
		return errReidentify
	}
	return errResume
}

// fatalReasons say what an admin does about each close code that stops the bot.
var fatalReasons = map[int]string{
	4004: "Discord refused the bot token (close code 4004, authentication failed); it may have been reset. Paste the current token and save the channel.",
	4010: "Discord refused the shard the bot asked for (close code 4010).",
	4011: "Discord requires sharding for this bot (close code 4011); it is in too many servers for one connection.",
	4012: "Discord refused the Gateway version (close code 4012).",
	4013: "Discord refused the bot's intents (close code 4013).",
	4014: "Discord refused a privileged intent (close code 4014): enable Message Content for the bot in the Developer Portal, then save the channel.",
}

// Waits between connections; tests shorten them.
var (
	// reidentifyWait is the pause before a new Identify after op 9 d:false.
	reidentifyWait = func() time.Duration { return time.Second + rand.N(4*time.Second) }
	// helloTimeout bounds the wait for op 10 Hello.
	helloTimeout = 20 * time.Second
)

// Poll implements channels.Poller: it holds a Gateway session until ctx
// ends. A dispatch's sequence counts as seen only after it was stored, so
// when storing fails the connection is dropped and Resume replays it. The
// session is saved, and the connection closed without ending it (never
// 1000), so after a restart or a reload Poll resumes and the Gateway
// replays what arrived meanwhile; when the session is gone it identifies
// anew and reads each known channel's messages since the newest stored one
// through REST. A revoked token (401, close 4004) or a refused intent stops
// the poller with a FinalError. Connection failures return to the hub,
// which reconnects after a short wait.
func (c *Connector) Poll(ctx context.Context, link channels.PollLink) error {
	var s session
	if raw, err := link.State(ctx); err != nil {
		return err
	} else if raw != nil {
		json.Unmarshal(raw, &s)
	}
	gw, err := c.gatewayURL(ctx)
	if err != nil {
		return err
	}
	if s.ID == "" && len(s.Channels) > 0 {
		s.backfill = true
	}
	defer func() {
		// The session outlives this process: save where it stands.
		save, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		c.saveSession(save, link, &s)
	}()
	for stalls := 0; ctx.Err() == nil; {
		u := gw
		if s.ID != "" && s.ResumeURL != "" {
			u = s.ResumeURL
		}
		s.live = false
		err := c.connect(ctx, withQuery(u), &s, link)
		if ctx.Err() != nil {
			break
		}
		var fe *fatalError
		switch {
		case errors.As(err, &fe):
			reason := fatalReasons[fe.code]
			return &channels.FinalError{Reason: reason, Err: err}
		case errors.Is(err, errReidentify):
			s = session{BotID: s.BotID, Channels: s.Channels, backfill: true}
			c.saveSession(ctx, link, &s)
			select {
			case <-ctx.Done():
			case <-time.After(reidentifyWait()):
			}
		case errors.Is(err, errResume) && (s.live || stalls == 0):
			// Discord asked to reconnect (or the connection dropped):
			// resume at once, unless resuming got nowhere twice.
			stalls++
			if s.live {
				stalls = 0
			}
		default: // dial failure, storage failure: the hub waits and retries
			return err
		}
	}
	return ctx.Err()
}

func (c *Connector) saveSession(ctx context.Context, link channels.PollLink, s *session) {
	b, _ := json.Marshal(s)
	if err := link.SaveState(ctx, b); err != nil {
		c.log.Warn("discord session not saved", "error", err)
	}
}

// gatewayURL asks GET /gateway/bot for the URL to connect to.
func (c *Connector) gatewayURL(ctx context.Context) (string, error) {
	req, err := c.newRequest(ctx, http.MethodGet, "/gateway/bot", nil)
	if err != nil {
		return "", err
	}
	body, _, err := channels.Do(c.client, req, reason)
	var se *channels.SendError
	if errors.As(err, &se) && se.Status == http.StatusUnauthorized {
		return "", &channels.FinalError{Reason: "Discord refused the bot token (401 Unauthorized); it may have been reset. Paste the current token and save the channel.", Err: err}
	} else if err != nil {
		return "", fmt.Errorf("discord gateway/bot: %w", err)
	}
	var g struct {
		URL   string `json:"url"`
		Limit struct {
			Remaining  int   `json:"remaining"`
			ResetAfter int64 `json:"reset_after"`
		} `json:"session_start_limit"`
	}
	if json.Unmarshal(body, &g) != nil || g.URL == "" {
		return "", errors.New("discord gateway/bot: no url")
	}
	if g.Limit.Remaining == 0 && g.Limit.ResetAfter > 0 {
		// No session starts left today: wait for the reset rather than
		// spend Identify calls Discord would refuse.
		return "", &channels.SendError{RetryAfter: time.Duration(g.Limit.ResetAfter) * time.Millisecond,
			Reason: "Discord allows no more session starts until its daily limit resets."}
	}
	return g.URL, nil
}

func withQuery(u string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "v=10&encoding=json"
}

// conn is one Gateway connection. Only the goroutine running connect
// writes to ws; a reader goroutine hands frames over.
type conn struct {
	ws     *websocket.Conn
	frames chan *Payload
	errs   chan error
	done   chan struct{}
}

func (c *Connector) dial(ctx context.Context, u string) (*conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 20 * time.Second, Proxy: http.ProxyFromEnvironment}
	ws, _, err := d.DialContext(ctx, u, nil)
	if err != nil {
		return nil, fmt.Errorf("dial gateway: %w", err)
	}
	ws.SetReadLimit(16 << 20)
	k := &conn{ws: ws, frames: make(chan *Payload), errs: make(chan error, 1), done: make(chan struct{})}
	go k.read()
	return k, nil
}

func (k *conn) read() {
	for {
		_, b, err := k.ws.ReadMessage()
		if err != nil {
			k.errs <- err
			return
		}
		p, err := DecodePayload(b)
		if err != nil {
			continue
		}
		select {
		case k.frames <- p:
		case <-k.done:
			return
		}
	}
}

// close ends the connection with a code other than 1000/1001, which keeps
// the session resumable.
func (k *conn) close(code int) {
	k.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
	close(k.done)
	k.ws.Close()
}

// sendFailed decides what a failed write means: when the server closed the
// connection, the close code the reader saw (resume or identify again)
// says more than the write error does.
func (k *conn) sendFailed() error {
	select {
	case err := <-k.errs:
		return readError(err)
	case <-time.After(250 * time.Millisecond):
		return errResume
	}
}

func (k *conn) send(op int, d any) error {
	k.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return k.ws.WriteJSON(map[string]any{"op": op, "d": d})
}

// connect runs one connection: Hello, Identify or Resume, heartbeats and
// dispatches, until it ends with a reason for Poll. It always closes with
// 4000, never 1000 or 1001, which would end the session.
func (c *Connector) connect(ctx context.Context, u string, s *session, link channels.PollLink) error {
	k, err := c.dial(ctx, u)
	if err != nil {
		return err
	}
	defer k.close(4000)

	var interval time.Duration
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-k.errs:
		return readError(err)
	case <-time.After(helloTimeout):
		return errResume
	case p := <-k.frames:
		var h struct {
			HeartbeatInterval int64 `json:"heartbeat_interval"`
		}
		if p.Op != opHello || json.Unmarshal(p.D, &h) != nil || h.HeartbeatInterval <= 0 {
			return errResume
		}
		interval = time.Duration(h.HeartbeatInterval) * time.Millisecond
	}
	if s.ID != "" {
		err = k.send(opResume, map[string]any{"token": c.cfg.BotToken.Reveal(), "session_id": s.ID, "seq": s.Seq})
	} else {
		err = k.send(opIdentify, map[string]any{"token": c.cfg.BotToken.Reveal(), "intents": Intents,
			"properties": map[string]string{"os": "linux", "browser": "switchboard", "device": "switchboard"}})
	}
	if err != nil {
		return k.sendFailed()
	}
	beat := c.after(time.Duration(rand.Float64() * float64(interval)))
	acked := true
	heartbeat := func() error {
		var d any
		if s.Seq > 0 {
			d = s.Seq
		}
		return k.send(opHeartbeat, d)
	}
	handle := func(p *Payload) error {
		switch p.Op {
		case opHeartbeatACK:
			acked = true
		case opHeartbeat:
			if heartbeat() != nil {
				return k.sendFailed()
			}
		case opReconnect:
			return errResume
		case opInvalidSession:
			var resumable bool
			json.Unmarshal(p.D, &resumable)
			if resumable {
				return errResume
			}
			return errReidentify
		case opDispatch:
			return c.dispatch(ctx, p, s, link)
		}
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-k.errs:
			return readError(err)
		case <-beat:
			// An ACK may be waiting behind a slow dispatch: read what has
			// arrived before calling the connection a zombie.
			for drained := false; !acked && !drained; {
				select {
				case p := <-k.frames:
					if err := handle(p); err != nil {
						return err
					}
				default:
					drained = true
				}
			}
			if !acked {
				select {
				case err := <-k.errs: // closed by the server, not a zombie
					return readError(err)
				default:
				}
				c.log.Info("discord heartbeat not acknowledged, resuming")
				return errResume
			}
			if heartbeat() != nil {
				return k.sendFailed()
			}
			acked = false
			beat = c.after(interval)
		case p := <-k.frames:
			if err := handle(p); err != nil {
				return err
			}
		}
	}
}

// dispatch handles one event and then records its sequence.
func (c *Connector) dispatch(ctx context.Context, p *Payload, s *session, link channels.PollLink) error {
	save := false
	switch p.T {
	case "READY":
		var r struct {
			SessionID        string `json:"session_id"`
			ResumeGatewayURL string `json:"resume_gateway_url"`
			User             user   `json:"user"`
		}
		if err := json.Unmarshal(p.D, &r); err != nil || r.SessionID == "" {
			return errReidentify
		}
		s.ID, s.ResumeURL, s.BotID, s.live = r.SessionID, r.ResumeGatewayURL, r.User.ID, true
		link.Connected()
		if s.backfill {
			if err := c.backfill(ctx, s, link); err != nil {
				return err
			}
			s.backfill = false
		}
		save = true
	case "RESUMED":
		s.live = true
		link.Connected()
		save = true
	case "MESSAGE_CREATE":
		in, err := NormalizeMessage(p.D, s.BotID, c.guilds)
		if err != nil {
			c.log.Warn("discord event unreadable", "error", backend.ErrorMessage(err))
		} else if in != nil {
			if err := link.Deliver(ctx, &channels.Webhook{Messages: []*backend.InboundMessage{in}}); err != nil {
				return fmt.Errorf("store discord message: %w", err)
			}
			s.seen(in.ThreadKey, in.ExternalID)
			save = true
		}
	}
	if p.S != nil && *p.S > s.Seq {
		s.Seq = *p.S
	}
	if save {
		c.saveSession(ctx, link, s)
	}
	return nil
}

// backfill reads, through REST, each known channel's messages after the
// newest one stored (GET /channels/{id}/messages?after=), oldest first, and
// stores them: what arrived while there was no session to resume.
func (c *Connector) backfill(ctx context.Context, s *session, link channels.PollLink) error {
	for channel, after := range s.Channels {
		for {
			var page []json.RawMessage
			err := c.getJSON(ctx, "/channels/"+url.PathEscape(channel)+"/messages?limit=100&after="+url.QueryEscape(after), &page)
			var se *channels.SendError
			if errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusForbidden) {
				delete(s.Channels, channel) // gone, or the bot may no longer read it
				break
			} else if err != nil {
				return fmt.Errorf("discord backfill: %w", err)
			}
			var msgs []*backend.InboundMessage
			for _, raw := range page {
				in, err := NormalizeMessage(raw, s.BotID, c.guilds)
				if err == nil && in != nil {
					msgs = append(msgs, in)
				}
				var m struct {
					ID string `json:"id"`
				}
				if json.Unmarshal(raw, &m) == nil && snowflakeLess(after, m.ID) {
					after = m.ID
				}
			}
			slices.SortFunc(msgs, func(a, b *backend.InboundMessage) int {
				if snowflakeLess(a.ExternalID, b.ExternalID) {
					return -1
				}
				return 1
			})
			if err := link.Deliver(ctx, &channels.Webhook{Messages: msgs}); err != nil {
				return fmt.Errorf("store discord message: %w", err)
			}
			s.Channels[channel] = after
			c.saveSession(ctx, link, s)
			if len(page) < 100 {
				break
			}
		}
	}
	return nil
}

// readError maps a failed read to a reconnect decision.
func readError(err error) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return closeAction(ce.Code)
	}
	return errResume // dropped without a close frame
}
