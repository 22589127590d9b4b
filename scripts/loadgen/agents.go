package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// agents are the simulated agents: each stays Available, follows its
// WebSocket feed, accepts every offer through the API and completes the
// task right away, freeing room for the next.
type agents struct {
	rec *recorder
	// What the feeds told, to tie an offer to the webhook that caused it:
	// offer → task → conversation → thread (the customer).
	mu         sync.Mutex
	offeredAt  map[string]time.Time // task → when its offer reached a socket
	taskConv   map[string]string
	convThread map[string]string
	resolved   int
	changed    chan struct{}

	accepted, completed, errors atomic.Int64
	conns                       []*websocket.Conn
	wg                          sync.WaitGroup
}

// event is the part of a change-feed event the agents read.
type event struct {
	Type string `json:"type"`
	Data struct {
		ID             string `json:"id"`
		TaskID         string `json:"taskId"`
		State          string `json:"state"`
		ConversationID string `json:"conversationId"`
		ThreadKey      string `json:"threadKey"`
	} `json:"data"`
}

// startAgents signs every agent in, makes them Available with room for
// o.capacity chats, and opens their feeds.
func startAgents(ctx context.Context, e *engine, ws *workspace, o options, rec *recorder) (*agents, error) {
	a := &agents{rec: rec, offeredAt: map[string]time.Time{}, taskConv: map[string]string{}, convThread: map[string]string{},
		changed: make(chan struct{}, 1)}
	for _, c := range ws.agents {
		var in struct {
			Token   string `json:"token"`
			LastSeq int64  `json:"lastSeq"`
		}
		if err := call(ctx, e.url, "", "POST", "/api/auth/signin", map[string]string{"email": c.email, "password": c.password}, &in); err != nil {
			return nil, err
		}
		var me struct {
			ID     string `json:"id"`
			UserID string `json:"userId"`
		}
		if err := call(ctx, e.url, in.Token, "GET", "/api/me/worker", nil, &me); err != nil {
			return nil, err
		}
		w := map[string]any{"userId": me.UserID, "name": c.email, "activity": "Available", "capacity": map[string]int{"chat": o.capacity}}
		if err := call(ctx, e.url, ws.adminToken, "PUT", "/api/workers/"+me.ID, w, nil); err != nil {
			return nil, err
		}
		u := strings.Replace(e.url, "http://", "ws://", 1) + "/api/ws?since=" + fmt.Sprint(in.LastSeq) + "&access_token=" + url.QueryEscape(in.Token)
		conn, _, err := websocket.DefaultDialer.DialContext(ctx, u, nil)
		if err != nil {
			return nil, fmt.Errorf("agent feed: %w", err)
		}
		a.conns = append(a.conns, conn)
		work := make(chan string, 1024)
		a.wg.Add(2)
		go func() { defer a.wg.Done(); defer close(work); a.read(conn, work) }()
		go func() { defer a.wg.Done(); a.work(ctx, e.url, in.Token, work) }()
	}
	return a, nil
}

// read follows one agent's feed, noting offers and the facts that tie
// them to customers, and queues each new offer for the agent to accept.
func (a *agents) read(conn *websocket.Conn, work chan<- string) {
	for {
		var f struct {
			Events []event `json:"events"`
		}
		if err := conn.ReadJSON(&f); err != nil {
			return
		}
		now := time.Now()
		var offers []string
		a.mu.Lock()
		for _, ev := range f.Events {
			d := ev.Data
			switch ev.Type {
			case "reservation.upserted":
				if d.State == "pending" {
					if _, ok := a.offeredAt[d.TaskID]; !ok {
						a.offeredAt[d.TaskID] = now
						offers = append(offers, d.ID+" "+d.TaskID)
					}
				}
			case "task.upserted":
				if d.ConversationID != "" {
					a.taskConv[d.ID] = d.ConversationID
				}
			case "conversation.upserted":
				a.convThread[d.ID] = d.ThreadKey
			}
		}
		a.resolve()
		a.mu.Unlock()
		for _, o := range offers {
			work <- o
		}
	}
}

// resolve records the latency of every offer whose customer is now known;
// a.mu is held.
func (a *agents) resolve() {
	n := a.resolved
	for task, at := range a.offeredAt {
		thread := a.convThread[a.taskConv[task]]
		if thread == "" {
			continue
		}
		if a.rec.offered(thread, at) {
			a.resolved++
		}
		delete(a.offeredAt, task)
	}
	if a.resolved != n {
		select {
		case a.changed <- struct{}{}:
		default:
		}
	}
}

// work accepts each offer and completes its task.
func (a *agents) work(ctx context.Context, base, token string, offers <-chan string) {
	for o := range offers {
		res, task, _ := strings.Cut(o, " ")
		if err := call(ctx, base, token, "POST", "/api/reservations/"+res+"/accept", nil, nil); err != nil {
			a.errors.Add(1)
			continue
		}
		a.accepted.Add(1)
		if err := call(ctx, base, token, "POST", "/api/tasks/"+task+"/complete", map[string]string{"disposition": "load test"}, nil); err != nil {
			a.errors.Add(1)
			continue
		}
		a.completed.Add(1)
	}
}

// waitOffers waits until want conversations were offered, or for at most
// patience after the last progress. It reports whether all were.
func (a *agents) waitOffers(ctx context.Context, want int64, patience time.Duration, enabled bool) bool {
	if !enabled {
		return true
	}
	for {
		a.mu.Lock()
		done := int64(a.resolved) >= want
		a.mu.Unlock()
		if done {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-a.changed:
		case <-time.After(patience):
			return false
		}
	}
}

// close ends the feeds and waits for the agents to finish their work.
func (a *agents) close() {
	for _, c := range a.conns {
		c.Close()
	}
	a.wg.Wait()
}
