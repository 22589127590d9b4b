package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
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
)

// Frame is what the server sends on the WebSocket. Besides "events" frames
// the hub sends "typing" frames ({"type":"typing","typing":{…}}, see
// Typing), which are not in the change feed.
type Frame struct {
	Type   string          `json:"type"` // "events"
	Events []backend.Event `json:"events"`
}

// Hub pushes new change-feed events to every connected WebSocket client.
// One goroutine (Run) owns the client set and the broadcast cursor, so a
// client that registers with a sequence gets exactly the events after it:
// first a replay from the store, then the live ones, with no gap between.
type Hub struct {
	store backend.EventService
	log   *slog.Logger

	register   chan *wsClient
	unregister chan *wsClient
	// ephemeral carries frames that are not in the change feed (typing).
	ephemeral chan []byte
	done      chan struct{}
	closeOnce sync.Once
	stopped   chan struct{}
}

// NewHub returns a hub reading from store. Run must be called.
func NewHub(store backend.EventService, log *slog.Logger) *Hub {
	return &Hub{
		store: store, log: log,
		register: make(chan *wsClient), unregister: make(chan *wsClient), ephemeral: make(chan []byte, 64),
		done: make(chan struct{}), stopped: make(chan struct{}),
	}
}

// Close stops Run and closes every client's connection.
func (h *Hub) Close() {
	h.closeOnce.Do(func() { close(h.done) })
}

type wsClient struct {
	hub    *Hub
	conn   *websocket.Conn
	send   chan []byte
	cursor int64
}

// Run owns the clients until ctx ends or Close is called.
func (h *Hub) Run(ctx context.Context) {
	defer close(h.stopped)
	notify, stop := h.store.Notify()
	defer stop()
	clients := map[*wsClient]bool{}
	defer func() {
		for c := range clients {
			close(c.send)
		}
	}()
	last, err := h.store.LastSeq(ctx)
	if err != nil {
		h.log.Error("hub: read last sequence", "err", err)
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.done:
			return
		case c := <-h.register:
			if h.replay(ctx, c, last) {
				clients[c] = true
			} else {
				close(c.send)
			}
		case c := <-h.unregister:
			if clients[c] {
				delete(clients, c)
				close(c.send)
			}
		case frame := <-h.ephemeral:
			for c := range clients {
				select {
				case c.send <- frame:
				default: // a full client misses it; nothing to catch up on
				}
			}
		case <-notify:
			for {
				events, err := h.store.EventsSince(ctx, last, framePage)
				if err != nil {
					h.log.Error("hub: read events", "err", err)
					break
				}
				if len(events) == 0 {
					break
				}
				last = events[len(events)-1].Seq
				frame := mustFrame(events)
				for c := range clients {
					select {
					case c.send <- frame:
						c.cursor = last
					default: // too slow: drop it; it resyncs from its cursor
						delete(clients, c)
						close(c.send)
					}
				}
			}
		}
	}
}

// replay queues the events between the client's cursor and last. It
// reports false when the client is too far behind to catch up here.
func (h *Hub) replay(ctx context.Context, c *wsClient, last int64) bool {
	for c.cursor < last {
		events, err := h.store.EventsSince(ctx, c.cursor, framePage)
		if err != nil {
			h.log.Error("hub: replay", "err", err)
			return false
		}
		var page []backend.Event
		for _, e := range events {
			if e.Seq <= last {
				page = append(page, e)
			}
		}
		if len(page) == 0 {
			break
		}
		select {
		case c.send <- mustFrame(page):
			c.cursor = page[len(page)-1].Seq
		default:
			return false
		}
	}
	c.cursor = last
	return true
}

func mustFrame(events []backend.Event) []byte {
	b, err := json.Marshal(Frame{Type: "events", Events: events})
	if err != nil {
		panic("marshal frame: " + err.Error())
	}
	return b
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
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered already
	}
	c := &wsClient{hub: s.hub, conn: conn, send: make(chan []byte, sendBuffer), cursor: since}
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

// readPump discards what the client sends (the feed is one-way) and keeps
// the read deadline moving with pongs.
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
	for {
		if _, _, err := c.conn.ReadMessage(); err != nil {
			return
		}
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
				c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "resync"))
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
