package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend"
)

// WebSocket timing and limits, as in gorilla's chat example.
const (
	writeWait      = 10 * time.Second
	pongWait       = 60 * time.Second
	pingPeriod     = pongWait * 9 / 10
	maxInboundSize = 4096
	sendBuffer     = 256
	framePage      = 500
	// positionEvery: a client that was sent nothing for this many log
	// events learns at once how far the feed went, so a reconnect does not
	// look at them again; otherwise it learns after positionDelay.
	positionEvery = 10000
	positionDelay = 500 * time.Millisecond
)

// Close codes the live feed ends a connection with.
const (
	// CloseSessionEnded: the session was signed out, expired, its
	// password changed or its user disabled. Reconnecting will not help.
	CloseSessionEnded = 4401
)

// Frame is what the server sends on the WebSocket. Besides "events" frames
// the hub sends "typing" frames ({"type":"typing","typing":{…}}, see
// Typing), which are not in the change feed.
type Frame struct {
	Type   string          `json:"type"` // "events"
	Events []backend.Event `json:"events"`
	// Next is the log position the frame brings the client to.
	Next int64 `json:"next"`
}

// hubStore is what the hub reads.
type hubStore interface {
	feedStore
	CheckSessions(ctx context.Context, ids []string) ([]string, error)
}

// Hub pushes new change-feed events to every connected WebSocket client,
// each getting only what the Policy lets its user read. One goroutine (Run)
// owns the client set, the access state and the broadcast cursor, so a
// client that registers with a sequence gets exactly the events after it:
// first a replay from the store, then the live ones, with no gap between.
type Hub struct {
	store hubStore
	log   *slog.Logger
	clock backend.Clock
	// workerOf returns the routing worker of a user ("" for none).
	workerOf func(ctx context.Context, userID string) string

	register   chan *wsClient
	unregister chan *wsClient
	check      chan chan struct{}
	positions  chan struct{}
	direct     chan directFrame
	// ephemeral carries frames that are not in the change feed (typing),
	// each for whoever may read its conversation.
	ephemeral chan scopedFrame
	// changed receives a signal (never blocking) after a broadcast that
	// carried routing or call events: the supervisors' live view follows.
	changed   chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	stopped   chan struct{}
}

// NewHub returns a hub reading from store. Run must be called.
func NewHub(store hubStore, log *slog.Logger) *Hub {
	return &Hub{
		store: store, log: log, clock: backend.SystemClock{},
		workerOf: func(context.Context, string) string { return "" },
		register: make(chan *wsClient), unregister: make(chan *wsClient), check: make(chan chan struct{}), positions: make(chan struct{}),
		direct: make(chan directFrame, sendBuffer), ephemeral: make(chan scopedFrame, 64), changed: make(chan struct{}, 1),
		done: make(chan struct{}), stopped: make(chan struct{}),
	}
}

// Close stops Run and closes every client's connection.
func (h *Hub) Close() {
	h.closeOnce.Do(func() { close(h.done) })
}

type wsClient struct {
	hub     *Hub
	conn    *websocket.Conn
	send    chan []byte
	cursor  int64
	session string
	acc     *feedAccess
	// closeCode and closeText are set by Run before it closes send.
	closeCode int
	closeText string
	// user is who signed in; frames, when set, takes the client's
	// non-feed frames (voice signaling); greet, when set, gives the frames
	// a new connection starts with (the calls ringing its user).
	user   backend.User
	frames func(u backend.User, frame []byte)
	greet  func(u backend.User) [][]byte
	// sent is the feed position the client was last sent (or named when
	// it connected): the furthest it may acknowledge having applied.
	sent atomic.Int64
	// acked records a position the client acknowledged as its session's
	// feed cursor, so pruning may go that far.
	acked func(seq int64)
}

// Run owns the clients until ctx ends or Close is called.
func (h *Hub) Run(ctx context.Context) {
	defer close(h.stopped)
	notify, stop := h.store.Notify()
	defer stop()
	st := newHubState(h)
	defer st.dropAll()
	var err error
	if st.last, err = h.store.LastSeq(ctx); err != nil {
		h.log.Error("hub: read last sequence", "err", err)
		return
	}
	h.armCheck(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.done:
			return
		case c := <-h.register:
			if st.replay(ctx, c) {
				st.add(c)
				st.greet(c)
			} else {
				close(c.send)
			}
		case c := <-h.unregister:
			st.remove(c)
		case done := <-h.check:
			st.checkSessions(ctx)
			h.armCheck(ctx)
			close(done)
		case d := <-h.direct:
			st.sendDirect(d)
		case f := <-h.ephemeral:
			st.sendScoped(f)
		case <-notify:
			st.follow(ctx)
		case <-h.positions:
			st.sendPositions()
		}
	}
}

// armCheck has Run re-check the clients' sessions after
// sessionCheckEvery. The timer waits for the check, so on a test's fake
// clock every check happens at its own time.
func (h *Hub) armCheck(ctx context.Context) {
	h.clock.AfterFunc(sessionCheckEvery, func() {
		done := make(chan struct{})
		select {
		case h.check <- done:
			select {
			case <-done:
			case <-h.stopped:
			}
		case <-h.stopped:
		case <-ctx.Done():
		}
	})
}

// encodeFrame writes a frame from events already encoded.
func encodeFrame(events []json.RawMessage, next int64) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"events","events":[`)
	for i, e := range events {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e)
	}
	b.WriteString(`],"next":`)
	b.WriteString(jsonInt(next))
	b.WriteByte('}')
	return b.Bytes()
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func mustEncode(events []backend.Event) []json.RawMessage {
	out := make([]json.RawMessage, len(events))
	for i := range events {
		b, err := json.Marshal(&events[i])
		if err != nil {
			panic("marshal event: " + err.Error())
		}
		out[i] = b
	}
	return out
}

var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 16 * 1024}

// handleWebSocket upgrades an authenticated request. The client passes
// ?since=N, the last sequence it has applied.
func (s *Server) handleWebSocket(w http.ResponseWriter, r *http.Request) {
	since, err := queryInt(r, "since", 0)
	if err != nil || since < 0 {
		Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "Query parameter since must be a whole number of 0 or more."))
		return
	}
	// A cursor below the pruned floor would be followed past a gap.
	if floor, err := s.Store.FeedFloor(r.Context()); err != nil || since < floor {
		if err == nil {
			err = backend.Errorf(backend.EConflict, "The change feed no longer holds every event after %d: take the snapshot (GET /api/sync/snapshot) and follow on from its sequence.", since)
		}
		Error(w, r, s.Logger, err)
		return
	}
	sess := SessionFrom(r.Context())
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered already
	}
	c := &wsClient{hub: s.hub, conn: conn, send: make(chan []byte, sendBuffer), cursor: since, session: sess.ID,
		acc: newFeedAccess(sess.User, "", nil), user: sess.User, frames: s.frames, greet: s.greet}
	c.sent.Store(since)
	c.acked = func(seq int64) {
		if err := s.Store.RecordFeedCursor(context.Background(), sess.ID, seq); err != nil {
			s.Logger.Error("record feed cursor", "err", err)
		}
	}
	select {
	case s.hub.register <- c:
	case <-s.hub.done:
		conn.Close()
		return
	case <-s.hub.stopped:
		conn.Close()
		return
	}
	go c.writePump()
	go c.readPump()
}

// FeedAck is the frame a client sends on the WebSocket once it has applied
// the events up to Seq ({"type":"feed.ack","seq":N}): the engine records
// it as the session's feed cursor (as GET /api/sync does for the pages it
// is asked for), never beyond what the socket has sent, so pruning can
// delete what the desktop holds.
type FeedAck struct {
	Type string `json:"type"` // "feed.ack"
	Seq  int64  `json:"seq"`
}

// feedAck returns the position a feed.ack frame acknowledges.
func feedAck(frame []byte) (int64, bool) {
	if !bytes.Contains(frame, []byte(`"feed.ack"`)) {
		return 0, false
	}
	var ack FeedAck
	if json.Unmarshal(frame, &ack) != nil || ack.Type != "feed.ack" {
		return 0, false
	}
	return ack.Seq, true
}

// readPump records the client's acknowledgements, hands its other frames
// to the frame handler (voice signaling), if any, and keeps the read
// deadline moving with pongs.
func (c *wsClient) readPump() {
	defer func() {
		select {
		case c.hub.unregister <- c:
		case <-c.hub.stopped:
		}
		c.conn.Close()
	}()
	c.conn.SetReadLimit(maxInboundSize)
	c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error { c.conn.SetReadDeadline(time.Now().Add(pongWait)); return nil })
	var recorded int64
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		if seq, ok := feedAck(msg); ok {
			if seq = min(seq, c.sent.Load()); seq > recorded && c.acked != nil {
				recorded = seq
				c.acked(seq)
			}
			continue
		}
		if c.frames != nil {
			c.frames(c.user, msg)
		}
	}
}

// directFrame is a frame for one user's connections only, or, with an
// event type, for every connection whose user may see events of that type.
type directFrame struct {
	userID string
	frame  []byte
	event  string
}

// Publish queues a frame that is not kept in the change log (the
// supervisors' live view) for every connection whose user the Policy lets
// see events of type typ. While the hub is too busy to take it, Publish
// waits (until the hub stops): a dropped view would leave supervisors on
// an older one until something changed again, which may be never.
func (h *Hub) Publish(typ string, frame []byte) {
	select {
	case h.direct <- directFrame{event: typ, frame: frame}:
	case <-h.done:
	case <-h.stopped:
	}
}

// scopedFrame is a frame for whoever may read one conversation.
type scopedFrame struct {
	conversationID string
	frame          []byte
}

// SendTo queues a frame for every connection of one user; when the hub is
// too busy to take it, the frame is dropped (signaling has its own
// timeouts).
func (h *Hub) SendTo(userID string, frame []byte) {
	select {
	case h.direct <- directFrame{userID: userID, frame: frame}:
	default:
	}
}

// writePump is the only goroutine that writes to the connection.
func (c *wsClient) writePump() {
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
				code, text := c.closeCode, c.closeText
				if code == 0 {
					code, text = websocket.CloseGoingAway, "resync"
				}
				c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, text))
				return
			}
			if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case <-ticker.C:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}
