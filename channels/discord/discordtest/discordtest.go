// Package discordtest is a fake Discord for tests: a Gateway over WebSocket
// (Hello, Identify, Resume with replay, heartbeats and ACKs, op 7, op 9) and
// the REST endpoints the connector uses (users/@me, gateway/bot, channel
// messages with rate-limit headers and 429s, reading a channel's messages
// with ?after=, multipart uploads with payload_json and files[n]), and the
// CDN: attachments at signed addresses that expire (ex, is, hm), renewed with
// POST /attachments/refresh-urls. Tests drive it to drop connections, skip
// ACKs, invalidate sessions and expire addresses.
package discordtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
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
	connects   int
	history    map[string][]map[string]any // channel → messages, oldest first
	cdn        map[string][]byte           // attachment path → bytes
	cdnGets    int
	now        func() time.Time
}

// Sent is a message the bot posted.
type Sent struct {
	ChannelID string
	Content   string
	ID        string
	// Files are the files uploaded with it.
	Files []File
}

// File is a file uploaded with a message.
type File struct {
	Name, Type string
	Data       []byte
}

// AttachmentTTL is how long a CDN address works (Discord: about a day).
const AttachmentTTL = 24 * time.Hour

// cdnKey signs CDN addresses (hm=).
var cdnKey = []byte("fake-discord-cdn")

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
	s := &Server{Token: token, HeartbeatInterval: 41250 * time.Millisecond, nextID: 1_200_000_000_000_000_000, sessions: map[string]*session{},
		history: map[string][]map[string]any{}, cdn: map[string][]byte{}, now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gateway/bot", s.handleGatewayBot)
	mux.HandleFunc("GET /users/@me", s.handleMe)
	mux.HandleFunc("GET /gateway", s.handleGateway)
	mux.HandleFunc("POST /channels/{id}/messages", s.handlePost)
	mux.HandleFunc("GET /channels/{id}/messages", s.handleHistory)
	mux.HandleFunc("POST /attachments/refresh-urls", s.handleRefresh)
	mux.HandleFunc("GET /attachments/{channel}/{id}/{name}", s.handleCDN)
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
	s.mu.Lock()
	s.connects++
	s.mu.Unlock()
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
// session (sent now if connected, replayed on Resume otherwise) and the
// channel's history (GET /channels/{id}/messages). guildID "" is a direct
// message. It returns the message id.
func (s *Server) Message(channelID, guildID, authorID, username, content string) string {
	return s.MessageWithFile(channelID, guildID, authorID, username, content, "", nil)
}

// MessageWithFile is Message with a file attached, put on the CDN at a
// signed address that expires after AttachmentTTL.
func (s *Server) MessageWithFile(channelID, guildID, authorID, username, content, fileName string, data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.id()
	atts := []any{}
	if data != nil {
		aid := s.id()
		p := "/attachments/" + channelID + "/" + aid + "/" + fileName
		s.cdn[p] = data
		atts = append(atts, map[string]any{"id": aid, "filename": fileName, "size": len(data), "url": s.signCDN(p),
			"proxy_url": s.signCDN(p), "content_type": http.DetectContentType(data)})
	}
	d := map[string]any{"id": id, "channel_id": channelID, "type": 0, "content": content,
		"timestamp":   time.Now().UTC().Format("2006-01-02T15:04:05.000000+00:00"),
		"author":      map[string]any{"id": authorID, "username": username, "global_name": username, "bot": authorID == BotID},
		"attachments": atts}
	if guildID != "" {
		d["guild_id"] = guildID
	}
	rest := map[string]any{}
	for k, v := range d {
		if k != "guild_id" { // REST message objects carry no guild_id
			rest[k] = v
		}
	}
	s.history[channelID] = append(s.history[channelID], rest)
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

// signCDN returns the CDN address of p, signed and expiring as Discord's
// are: ex (expiry) and is (issue) in hex seconds, hm an HMAC of both.
func (s *Server) signCDN(p string) string {
	now := s.now()
	ex := strconv.FormatInt(now.Add(AttachmentTTL).Unix(), 16)
	is := strconv.FormatInt(now.Unix(), 16)
	return s.URL + p + "?ex=" + ex + "&is=" + is + "&hm=" + cdnSignature(p, ex, is) + "&"
}

func cdnSignature(p, ex, is string) string {
	mac := hmac.New(sha256.New, cdnKey)
	mac.Write([]byte(p + "|" + ex + "|" + is))
	return hex.EncodeToString(mac.Sum(nil))
}

// SetNow replaces the fake's clock (CDN expiry).
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// handleCDN serves an attachment while its signed address is valid; an
// expired or forged one is 404 "This content is no longer available.".
func (s *Server) handleCDN(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	data, ok := s.cdn[r.URL.Path]
	now := s.now()
	s.cdnGets++
	s.mu.Unlock()
	ex, err := strconv.ParseInt(q.Get("ex"), 16, 64)
	if !ok || err != nil || !hmac.Equal([]byte(q.Get("hm")), []byte(cdnSignature(r.URL.Path, q.Get("ex"), q.Get("is")))) || now.Unix() > ex {
		http.Error(w, "This content is no longer available.", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", http.DetectContentType(data))
	w.Write(data)
}

// CDNGets counts the CDN requests (valid or not).
func (s *Server) CDNGets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cdnGets
}

// handleRefresh answers POST /attachments/refresh-urls with fresh signed
// addresses of the same files.
func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		http.Error(w, `{"message":"401: Unauthorized","code":0}`, http.StatusUnauthorized)
		return
	}
	var body struct {
		URLs []string `json:"attachment_urls"`
	}
	json.NewDecoder(r.Body).Decode(&body)
	var out []map[string]string
	s.mu.Lock()
	for _, raw := range body.URLs {
		u, err := url.Parse(raw)
		if _, ok := s.cdn[u.Path]; err == nil && ok {
			out = append(out, map[string]string{"original": raw, "refreshed": s.signCDN(u.Path)})
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"refreshed_urls": out})
}

// handleHistory answers GET /channels/{id}/messages?after=&limit=: the
// channel's messages after the id, newest first, at most limit (max 100).
func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		http.Error(w, `{"message":"401: Unauthorized","code":0}`, http.StatusUnauthorized)
		return
	}
	after := r.URL.Query().Get("after")
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	s.mu.Lock()
	msgs, ok := s.history[r.PathValue("id")]
	var out []map[string]any
	for _, m := range msgs { // oldest first: the first `limit` after the id
		if id := m["id"].(string); len(id) > len(after) || len(id) == len(after) && id > after {
			if len(out) < limit {
				out = append(out, m)
			}
		}
	}
	s.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]any{"message": "Unknown Channel", "code": 10003})
		return
	}
	slices.Reverse(out)
	if out == nil {
		out = []map[string]any{}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// Connects counts Gateway connections opened.
func (s *Server) Connects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connects
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

// ExpireSessions ends every session, as Discord does some time after a
// client disconnected: a Resume then gets op 9 d:false.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.sessions {
		x.invalid = true
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
	var files []File
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		files, err = readUpload(r, &body)
	} else {
		err = json.NewDecoder(r.Body).Decode(&body)
	}
	if err != nil || body.Content == "" && len(files) == 0 || len([]rune(body.Content)) > 2000 {
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
	m := Sent{ChannelID: r.PathValue("id"), Content: body.Content, ID: s.id(), Files: files}
	s.sent = append(s.sent, m)
	s.mu.Unlock()
	h.Set("X-RateLimit-Remaining", "4")
	h.Set("X-RateLimit-Reset-After", "1.000")
	json.NewEncoder(w).Encode(map[string]any{"id": m.ID, "channel_id": m.ChannelID, "content": m.Content,
		"author": map[string]any{"id": BotID, "bot": true}})
}

// readUpload reads a multipart message post: payload_json, and files[n]
// parts that payload_json's attachments describe, each at most 10 MiB.
func readUpload(r *http.Request, body any) ([]File, error) {
	if err := r.ParseMultipartForm(64 << 20); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(r.FormValue("payload_json")), body); err != nil {
		return nil, err
	}
	var files []File
	for i := 0; i < 10; i++ {
		f, hdr, err := r.FormFile(fmt.Sprintf("files[%d]", i))
		if err != nil {
			break
		}
		data, _ := io.ReadAll(f)
		f.Close()
		if len(data) > 10<<20 {
			return nil, fmt.Errorf("file too large")
		}
		files = append(files, File{Name: hdr.Filename, Type: hdr.Header.Get("Content-Type"), Data: data})
	}
	return files, nil
}
