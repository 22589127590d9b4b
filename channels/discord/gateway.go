package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend"
	"switchboard/channels"
)

// session is what survives a dropped connection: enough to Resume.
type session struct {
	id        string
	resumeURL string
	seq       int64 // last dispatch stored (0: none)
	botID     string
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

// Waits between connections; tests shorten them.
var (
	// reidentifyWait is the pause before a new Identify after op 9 d:false.
	reidentifyWait = func() time.Duration { return time.Second + rand.N(4*time.Second) }
	// retryWait is the pause after the n-th failed connection in a row.
	retryWait = func(n int) time.Duration { return min(time.Second<<min(n, 5), 30*time.Second) }
	// helloTimeout bounds the wait for op 10 Hello.
	helloTimeout = 20 * time.Second
)

// Poll implements channels.Poller: it holds a Gateway session until ctx
// ends. A dispatch's sequence counts as seen only after deliver stored it,
// so when storing fails the connection is dropped and Resume replays it.
func (c *Connector) Poll(ctx context.Context, deliver func(context.Context, *channels.Webhook) error) error {
	gw, err := c.gatewayURL(ctx)
	if err != nil {
		return err
	}
	var s session
	failures := 0
	for ctx.Err() == nil {
		u := gw
		if s.id != "" && s.resumeURL != "" {
			u = s.resumeURL
		}
		err := c.connect(ctx, withQuery(u), &s, deliver)
		if ctx.Err() != nil {
			break
		}
		var fe *fatalError
		var wait time.Duration
		switch {
		case errors.As(err, &fe):
			return err
		case errors.Is(err, errReidentify):
			s = session{botID: s.botID}
			wait = reidentifyWait()
			failures = 0
		case errors.Is(err, errResume):
			failures = 0
		default: // dial failure, storage failure: keep the session, back off
			failures++
			wait = retryWait(failures)
			c.log.Warn("discord gateway connection failed", "error", err, "wait", wait)
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
	}
	return ctx.Err()
}

// gatewayURL asks GET /gateway/bot for the URL to connect to.
func (c *Connector) gatewayURL(ctx context.Context) (string, error) {
	req, err := c.newRequest(ctx, http.MethodGet, "/gateway/bot", nil)
	if err != nil {
		return "", err
	}
	body, _, err := channels.Do(c.client, req, reason)
	if err != nil {
		return "", fmt.Errorf("discord gateway/bot: %w", err)
	}
	var g struct {
		URL string `json:"url"`
	}
	if json.Unmarshal(body, &g) != nil || g.URL == "" {
		return "", errors.New("discord gateway/bot: no url")
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
// dispatches, until it ends with a reason for Poll.
func (c *Connector) connect(ctx context.Context, u string, s *session, deliver func(context.Context, *channels.Webhook) error) error {
	k, err := c.dial(ctx, u)
	if err != nil {
		return err
	}
	closeCode := 4000
	defer func() { k.close(closeCode) }()

	var interval time.Duration
	select {
	case <-ctx.Done():
		closeCode = websocket.CloseNormalClosure
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
	if s.id != "" {
		err = k.send(opResume, map[string]any{"token": c.cfg.BotToken.Reveal(), "session_id": s.id, "seq": s.seq})
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
		if s.seq > 0 {
			d = s.seq
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
			return c.dispatch(ctx, p, s, deliver)
		}
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			// 1000 would end the session; the next Poll identifies anew anyway.
			closeCode = websocket.CloseNormalClosure
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
func (c *Connector) dispatch(ctx context.Context, p *Payload, s *session, deliver func(context.Context, *channels.Webhook) error) error {
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
		s.id, s.resumeURL, s.botID = r.SessionID, r.ResumeGatewayURL, r.User.ID
	case "MESSAGE_CREATE":
		in, err := NormalizeMessage(p.D, s.botID, c.guilds)
		if err != nil {
			c.log.Warn("discord event unreadable", "error", backend.ErrorMessage(err))
		} else if in != nil {
			if err := deliver(ctx, &channels.Webhook{Messages: []*backend.InboundMessage{in}}); err != nil {
				return fmt.Errorf("store discord message: %w", err)
			}
		}
	}
	if p.S != nil && *p.S > s.seq {
		s.seq = *p.S
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
