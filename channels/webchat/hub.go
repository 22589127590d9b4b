package webchat

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend"
)

// Socket timing, as in gorilla's chat example.
const (
	writeWait  = 10 * time.Second
	closeGrace = 2 * time.Second
	pongWait   = 60 * time.Second
	pingPeriod = pongWait * 9 / 10
	sendBuffer = 64
	eventPage  = 500
	// maxConvCache bounds the conversation → thread cache of the push loop.
	maxConvCache = 50_000
)

// threadID names one visitor's thread on one widget instance.
func threadID(instance, threadKey string) string { return instance + "\x00" + threadKey }

// hub owns the connected sockets: one goroutine (run) holds the set, reads
// the store's change feed and pushes each visitor only the messages of its
// own thread. Sockets are registered by thread; nothing else is shared.
type hub struct {
	store Store
	log   *slog.Logger

	register   chan *client
	unregister chan *client
	replies    chan reply
	typingCh   chan string

	closeOnce sync.Once
	done      chan struct{}
	stopped   chan struct{}
	started   atomic.Bool
	wg        sync.WaitGroup // pumps
}

// reply is a frame for one socket, such as the ack of its message.
type reply struct {
	c     *client
	frame []byte
}

func newHub(store Store, log *slog.Logger) *hub {
	return &hub{
		store: store, log: log,
		register: make(chan *client), unregister: make(chan *client), replies: make(chan reply), typingCh: make(chan string, 64),
		done: make(chan struct{}), stopped: make(chan struct{}),
	}
}

func (h *hub) start(ctx context.Context) {
	if h.started.CompareAndSwap(false, true) {
		go h.run(ctx)
	}
}

// close stops run, which closes every socket, and waits for the pumps.
func (h *hub) close() {
	h.closeOnce.Do(func() { close(h.done) })
	if h.started.Load() {
		<-h.stopped
	}
	h.wg.Wait()
}

func (h *hub) typing(thread string) {
	select {
	case h.typingCh <- thread:
	default:
	}
}

// client is one visitor socket.
type client struct {
	hub    *hub
	conn   *websocket.Conn
	send   chan []byte
	claims *Claims
	thread string
}

func (h *hub) run(ctx context.Context) {
	defer close(h.stopped)
	notify, stop := h.store.Notify()
	defer stop()
	threads := map[string]map[*client]bool{}
	convs := map[string]string{} // conversation id → thread id ("" for other channels)
	drop := func(c *client) {
		if set := threads[c.thread]; set[c] {
			delete(set, c)
			if len(set) == 0 {
				delete(threads, c.thread)
			}
			close(c.send)
		}
	}
	defer func() {
		for _, set := range threads {
			for c := range set {
				close(c.send)
			}
		}
	}()
	last, err := h.store.LastSeq(ctx)
	if err != nil {
		h.log.Error("webchat: read last sequence", "error", err)
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.done:
			return
		case c := <-h.register:
			if threads[c.thread] == nil {
				threads[c.thread] = map[*client]bool{}
			}
			threads[c.thread][c] = true
		case c := <-h.unregister:
			drop(c)
		case r := <-h.replies:
			if threads[r.c.thread][r.c] {
				h.push(r.c, r.frame, drop)
			}
		case t := <-h.typingCh:
			frame := (&ServerFrame{Type: "typing"}).bytes()
			for c := range threads[t] {
				h.push(c, frame, drop)
			}
		case <-notify:
			for {
				events, err := h.store.EventsSince(ctx, last, eventPage)
				if err != nil || len(events) == 0 {
					if err != nil {
						h.log.Error("webchat: read events", "error", err)
					}
					break
				}
				last = events[len(events)-1].Seq
				if len(threads) == 0 {
					continue
				}
				for _, e := range events {
					h.deliver(ctx, e, threads, convs, drop)
				}
			}
		}
	}
}

// deliver pushes one change-feed event to the sockets of its thread: a
// visitor's own messages (other tabs echo them) and replies once sent.
func (h *hub) deliver(ctx context.Context, e backend.Event, threads map[string]map[*client]bool, convs map[string]string, drop func(*client)) {
	if e.Type != backend.EventMessageUpserted {
		return
	}
	var m backend.Message
	if err := json.Unmarshal(e.Data, &m); err != nil || m.Private {
		return
	}
	if m.Direction == backend.DirectionOut && backend.DeliveryRank(m.Status) < backend.DeliveryRank(backend.DeliverySent) ||
		m.Status == backend.DeliveryFailed {
		return
	}
	thread, ok := convs[m.ConversationID]
	if !ok {
		c, err := h.store.FindConversationByID(ctx, m.ConversationID)
		if err != nil {
			return
		}
		if c.Channel == ID {
			thread = threadID(c.Instance, c.ThreadKey)
		}
		if len(convs) >= maxConvCache {
			clear(convs)
		}
		convs[m.ConversationID] = thread
	}
	set := threads[thread]
	if thread == "" || len(set) == 0 {
		return
	}
	for c := range set {
		h.push(c, (&ServerFrame{Type: "message", Message: wire(&m, c.claims.Subject)}).bytes(), drop)
	}
}

// push queues a frame; a socket that cannot keep up is dropped (its widget
// reconnects and reloads the history).
func (h *hub) push(c *client, frame []byte, drop func(*client)) {
	select {
	case c.send <- frame:
	default:
		drop(c)
	}
}

func (s *Server) handleSocket(w http.ResponseWriter, r *http.Request) {
	cfg, err := s.config(r.Context(), r.PathValue("instance"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	claims, err := s.visitor(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	up := websocket.Upgrader{
		ReadBufferSize: 4096, WriteBufferSize: 16 << 10,
		CheckOrigin: func(r *http.Request) bool {
			return cfg.AllowsOrigin(r.Header.Get("Origin")) || ownOrigin(r, r.Header.Get("Origin"))
		},
	}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered (403 for a refused origin)
	}
	c := &client{hub: s.hub, conn: conn, send: make(chan []byte, sendBuffer), claims: claims,
		thread: threadID(claims.Instance, claims.Subject)}
	select {
	case s.hub.register <- c:
	case <-s.hub.done:
		conn.Close()
		return
	case <-s.hub.stopped:
		conn.Close()
		return
	}
	s.hub.wg.Add(2)
	go func() { defer s.hub.wg.Done(); c.writePump() }()
	go func() { defer s.hub.wg.Done(); s.readPump(c) }()
}

// readPump reads the visitor's frames; it is the only reader.
func (s *Server) readPump(c *client) {
	defer func() {
		select {
		case c.hub.unregister <- c:
		case <-c.hub.stopped:
		}
		c.conn.Close()
	}()
	c.conn.SetReadLimit(MaxFrameBytes)
	c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error { c.conn.SetReadDeadline(time.Now().Add(pongWait)); return nil })
	lim := newBucket(s.opts.Rate, s.opts.Burst)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.hub.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		if !lim.take(time.Now()) {
			s.log.Warn("widget socket over its rate limit", "instance", c.claims.Instance)
			c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "rate limit"), time.Now().Add(writeWait))
			drainUntilClosed(c.conn)
			return
		}
		if s.opts.Calls != nil && isCallFrame(b) {
			s.opts.Calls.VisitorFrame(ctx, c.claims.Instance, c.claims.Subject, c.claims.Name, b, c.queueRaw, ctx.Done())
			continue
		}
		f, err := DecodeClientFrame(b)
		if err != nil {
			c.queue(&ServerFrame{Type: "error", Error: backend.ErrorMessage(err)})
			continue
		}
		switch f.Type {
		case "typing":
			if s.opts.OnVisitorTyping != nil {
				s.opts.OnVisitorTyping(c.claims.Instance, c.claims.Subject)
			}
		case "message":
			m, err := s.storeMessage(ctx, c.claims, f)
			if err != nil {
				c.queue(&ServerFrame{Type: "error", Nonce: f.Nonce, Error: backend.ErrorMessage(err)})
				continue
			}
			c.queue(&ServerFrame{Type: "ack", Nonce: f.Nonce, Message: wire(m, c.claims.Subject)})
		}
	}
}

// queue hands a reply to the hub, which owns c.send.
func (c *client) queue(f *ServerFrame) { c.queueRaw(f.bytes()) }

// queueRaw hands an encoded frame to the hub.
func (c *client) queueRaw(b []byte) {
	select {
	case c.hub.replies <- reply{c, b}:
	case <-c.hub.stopped:
	}
}

// isCallFrame reports whether a visitor's frame is call signaling.
func isCallFrame(b []byte) bool {
	var head struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(b, &head) == nil && strings.HasPrefix(head.Type, "call.")
}

// storeMessage stores a visitor's message once per nonce.
func (s *Server) storeMessage(ctx context.Context, claims *Claims, f *ClientFrame) (*backend.Message, error) {
	name := claims.Name
	if name == "" {
		name = VisitorName(claims.Subject)
	}
	in := &backend.InboundMessage{
		Channel: ID, Instance: claims.Instance, ExternalUserID: claims.Subject, DisplayName: name,
		ThreadKey: claims.Subject, ExternalID: claims.Subject + ":" + f.Nonce, Text: f.Text,
		PlatformAt: s.opts.Now().UTC(),
	}
	if len(f.Attachments) > 0 {
		// Marked as carried first: the sweeper then never deletes a file
		// this message names, even if storing the message fails.
		atts, err := s.store.AttachWebchatUploads(ctx, claims.Instance, claims.Subject, f.Attachments,
			func(id string) string { return fileURL(claims.Instance, id) })
		if err != nil {
			return nil, err
		}
		in.Attachments = atts
	}
	in.Raw, _ = json.Marshal(map[string]any{"nonce": f.Nonce, "attachments": f.Attachments})
	m, created, err := s.store.StoreInbound(ctx, in)
	if err != nil {
		return nil, err
	}
	if created && claims.Email != "" {
		if ct, err := s.store.FindContactByID(ctx, m.ContactID); err == nil && ct.Email == "" {
			ct.Email = claims.Email
			if err := s.store.UpdateContact(ctx, ct); err != nil {
				s.log.Warn("widget: set contact email", "error", err)
			}
		}
	}
	return m, nil
}

// writePump is the only goroutine that writes to the connection.
func (c *client) writePump() {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case msg, ok := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "reload"))
				return
			}
			if err := c.conn.WriteMessage(websocket.TextMessage, msg); errors.Is(err, websocket.ErrCloseSent) {
				continue // the reader is finishing the closing handshake and closes the socket
			} else if err != nil {
				return
			}
		case <-ticker.C:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil && !errors.Is(err, websocket.ErrCloseSent) {
				return
			}
		}
	}
}

// bucket is a token bucket for one socket.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newBucket(rate float64, burst int) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst)}
}

func (b *bucket) take(now time.Time) bool {
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// drainUntilClosed finishes the closing handshake after the engine has sent its close frame:
// it reads and drops what the browser still sends (the widget keeps those as pending and sends
// them again later) until the browser's own close frame, for at most closeGrace. Closing a TCP
// socket with frames still unread resets it, and the reset can overtake the close frame, so the
// browser would report 1006 ("retrying") instead of the 1008 that says "slow down".
func drainUntilClosed(conn *websocket.Conn) {
	conn.SetReadDeadline(time.Now().Add(closeGrace))
	for {
		if _, _, err := conn.NextReader(); err != nil {
			return
		}
	}
}
