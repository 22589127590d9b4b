// Package discordtest is a fake Discord for tests: a Gateway over WebSocket
// (Hello, Identify, Resume with replay, heartbeats and ACKs, op 7, op 9) and
// the REST endpoints the connector uses (users/@me, gateway/bot, channel messages with
// rate-limit headers and 429s). Tests drive it to drop connections, skip
// ACKs and invalidate sessions.
package discordtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// BotID is the fake bot's user id.
const BotID = "100000000000000001"

// Server is a fake Discord.
type Server struct {
	*httptest.Server
	Token string
	// HeartbeatInterval is sent in Hello (default 41.25 s, the value
	// Discord's documentation shows; clients time it on the engine's clock).
	HeartbeatInterval time.Duration

	mu         sync.Mutex
	nextID     int64
	sessions   map[string]*session
	cur        *gwConn
	skipACKs   bool
	fail429    int
	retryAfter float64
	identifies int
	resumes    int
	heartbeats int
	sent       []Sent
	closeCode  int
}

// Sent is a message the bot posted.
type Sent struct {
	ChannelID string
	Content   string
	ID        string
}

type event struct {
	seq int64
	t   string
	d   any
}

type session struct {
	id      string
	events  []event
	invalid bool
}

type gwConn struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	sess *session
}

func (c *gwConn) send(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteJSON(v)
}

// NewServer starts a fake Discord for the bot token.
func NewServer(token string) *Server {
	s := &Server{Token: token, HeartbeatInterval: 41250 * time.Millisecond, nextID: 1_200_000_000_000_000_000, sessions: map[string]*session{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gateway/bot", s.handleGatewayBot)
	mux.HandleFunc("GET /users/@me", s.handleMe)
	mux.HandleFunc("GET /gateway", s.handleGateway)
	mux.HandleFunc("POST /channels/{id}/messages", s.handlePost)
	s.Server = httptest.NewServer(mux)
	return s
}

func (s *Server) authorized(r *http.Request) bool {
	return r.Header.Get("Authorization") == "Bot "+s.Token
}

func (s *Server) handleGatewayBot(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		http.Error(w, `{"message":"401: Unauthorized","code":0}`, http.StatusUnauthorized)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"url": s.wsURL(), "shards": 1,
		"session_start_limit": map[string]int{"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
}

// BotUsername is the fake bot's user name.
const BotUsername = "switchboard-test"

// handleMe answers GET /users/@me with the bot's user object.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		http.Error(w, `{"message":"401: Unauthorized","code":0}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"id": BotID, "username": BotUsername, "discriminator": "0",
		"global_name": nil, "avatar": nil, "bot": true, "verified": true, "flags": 0, "mfa_enabled": false})
}

func (s *Server) wsURL() string { return "ws" + strings.TrimPrefix(s.URL, "http") + "/gateway" }

func (s *Server) id() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

var upgrader = websocket.Upgrader{}

func (s *Server) handleGateway(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("v") != "10" || r.URL.Query().Get("encoding") != "json" {
		http.Error(w, "bad query", http.StatusBadRequest)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &gwConn{ws: ws}
	defer ws.Close()
	c.send(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": s.HeartbeatInterval.Milliseconds()}})
	for {
		var p struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if err := ws.ReadJSON(&p); err != nil {
			s.mu.Lock()
			if ce, ok := err.(*websocket.CloseError); ok {
				s.closeCode = ce.Code
			}
			if s.cur == c {
				s.cur = nil
			}
			s.mu.Unlock()
			return
		}
		switch p.Op {
		case 1:
			s.mu.Lock()
			s.heartbeats++
			skip := s.skipACKs
			s.mu.Unlock()
			if !skip {
				c.send(map[string]any{"op": 11})
			}
		case 2:
			s.identify(c, p.D)
		case 6:
			s.resume(c, p.D)
		}
	}
}

func (s *Server) identify(c *gwConn, d json.RawMessage) {
	var id struct {
		Token   string `json:"token"`
		Intents int    `json:"intents"`
	}
	json.Unmarshal(d, &id)
	if id.Token != s.Token {
		c.closeWith(4004, "Authentication failed.")
		return
	}
	if id.Intents != 37377 {
		c.closeWith(4013, "Invalid intent(s).")
		return
	}
	s.mu.Lock()
	s.identifies++
	sess := &session{id: fmt.Sprintf("sess-%d", s.identifies)}
	s.sessions[sess.id] = sess
	c.sess = sess
	s.cur = c
	ready := event{seq: 1, t: "READY", d: map[string]any{"v": 10, "session_id": sess.id,
		"resume_gateway_url": s.wsURL() + "?resume=1", "user": map[string]any{"id": BotID, "username": "switchboard", "bot": true}}}
	sess.events = append(sess.events, ready)
	s.mu.Unlock()
	c.send(frame(ready))
}

func (s *Server) resume(c *gwConn, d json.RawMessage) {
	var r struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	json.Unmarshal(d, &r)
	s.mu.Lock()
	sess := s.sessions[r.SessionID]
	if r.Token != s.Token || sess == nil || sess.invalid {
		s.mu.Unlock()
		c.send(map[string]any{"op": 9, "d": false})
		return
	}
	s.resumes++
	c.sess = sess
	s.cur = c
	var replay []event
	for _, e := range sess.events {
		if e.seq > r.Seq {
			replay = append(replay, e)
		}
	}
	resumed := event{seq: int64(len(sess.events)) + 1, t: "RESUMED", d: map[string]any{}}
	sess.events = append(sess.events, resumed)
	// Hold the lock while replaying so new events queue behind the replay.
	for _, e := range replay {
		c.send(frame(e))
	}
	c.send(frame(resumed))
	s.mu.Unlock()
}

func frame(e event) map[string]any { return map[string]any{"op": 0, "s": e.seq, "t": e.t, "d": e.d} }

// Message makes a user send a message: MESSAGE_CREATE goes to the current
// session (sent now if connected, replayed on Resume otherwise). guildID ""
// is a direct message. It returns the message id.
func (s *Server) Message(channelID, guildID, authorID, username, content string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.id()
	d := map[string]any{"id": id, "channel_id": channelID, "type": 0, "content": content,
		"timestamp":   time.Now().UTC().Format("2006-01-02T15:04:05.000000+00:00"),
		"author":      map[string]any{"id": authorID, "username": username, "global_name": username, "bot": authorID == BotID},
		"attachments": []any{}}
	if guildID != "" {
		d["guild_id"] = guildID
	}
	var sess *session
	if s.cur != nil {
		sess = s.cur.sess
	} else {
		for _, x := range s.sessions { // the newest valid session
			if !x.invalid && (sess == nil || x.id > sess.id) {
				sess = x
			}
		}
	}
	if sess == nil {
		return id
	}
	e := event{seq: int64(len(sess.events)) + 1, t: "MESSAGE_CREATE", d: d}
	sess.events = append(sess.events, e)
	if s.cur != nil && s.cur.sess == sess {
		s.cur.send(frame(e))
	}
	return id
}

// Drop cuts the connection without a close frame.
func (s *Server) Drop() {
	s.mu.Lock()
	c := s.cur
	s.cur = nil
	s.mu.Unlock()
	if c != nil {
		c.ws.UnderlyingConn().Close()
	}
}

// CloseWith closes the connection with a close code.
func (s *Server) CloseWith(code int) {
	s.mu.Lock()
	c := s.cur
	s.cur = nil
	s.mu.Unlock()
	if c != nil {
		c.closeWith(code, "")
	}
}

// closeWith sends a close frame and leaves the TCP close to the read loop,
// once the client answered: closing with unread data would reset the
// connection and could lose the close frame.
func (c *gwConn) closeWith(code int, text string) {
	c.wmu.Lock()
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	c.wmu.Unlock()
	time.AfterFunc(2*time.Second, func() { c.ws.Close() })
}

// Reconnect sends op 7.
func (s *Server) Reconnect() { s.sendOp(map[string]any{"op": 7, "d": nil}) }

// InvalidSession sends op 9; when not resumable the session is gone.
func (s *Server) InvalidSession(resumable bool) {
	s.mu.Lock()
	if s.cur != nil && !resumable {
		s.cur.sess.invalid = true
	}
	s.mu.Unlock()
	s.sendOp(map[string]any{"op": 9, "d": resumable})
}

func (s *Server) sendOp(v any) {
	s.mu.Lock()
	c := s.cur
	s.mu.Unlock()
	if c != nil {
		c.send(v)
	}
}

// SkipACKs stops (or resumes) answering heartbeats.
func (s *Server) SkipACKs(skip bool) {
	s.mu.Lock()
	s.skipACKs = skip
	s.mu.Unlock()
}

// Fail429 answers the next n message posts with 429 and retry_after seconds.
func (s *Server) Fail429(n int, retryAfter float64) {
	s.mu.Lock()
	s.fail429, s.retryAfter = n, retryAfter
	s.mu.Unlock()
}

// Counts reports Identifies, Resumes and heartbeats so far.
func (s *Server) Counts() (identifies, resumes, heartbeats int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identifies, s.resumes, s.heartbeats
}

// Connected reports whether a session is live on a connection.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur != nil
}

// LastCloseCode is the close code the client last sent (0: none).
func (s *Server) LastCloseCode() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeCode
}

// Sent returns the messages the bot posted.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

func (s *Server) handlePost(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		http.Error(w, `{"message":"401: Unauthorized","code":0}`, http.StatusUnauthorized)
		return
	}
	var body struct {
		Content string `json:"content"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Content == "" || len([]rune(body.Content)) > 2000 {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}
	s.mu.Lock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-RateLimit-Limit", "5")
	h.Set("X-RateLimit-Bucket", "abcd1234")
	if s.fail429 > 0 {
		s.fail429--
		ra := s.retryAfter
		s.mu.Unlock()
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(ra, 'f', 3, 64))
		h.Set("X-RateLimit-Scope", "user")
		h.Set("Retry-After", strconv.Itoa(int(ra+0.999)))
		w.WriteHeader(http.StatusTooManyRequests)
		json.NewEncoder(w).Encode(map[string]any{"message": "You are being rate limited.", "retry_after": ra, "global": false})
		return
	}
	m := Sent{ChannelID: r.PathValue("id"), Content: body.Content, ID: s.id()}
	s.sent = append(s.sent, m)
	s.mu.Unlock()
	h.Set("X-RateLimit-Remaining", "4")
	h.Set("X-RateLimit-Reset-After", "1.000")
	json.NewEncoder(w).Encode(map[string]any{"id": m.ID, "channel_id": m.ChannelID, "content": m.Content,
		"author": map[string]any{"id": BotID, "bot": true}})
}
