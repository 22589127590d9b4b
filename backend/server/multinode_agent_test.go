package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"switchboard/backend"
)

// balancer is the load balancer in front of the nodes: it sends a client
// to a live node, and to the other one when its node stops answering.
type balancer struct {
	mu    sync.Mutex
	nodes []*node
	dead  map[*node]bool
}

// pick returns the live node i names (the next live one when it is dead).
func (b *balancer) pick(i int) *node {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.nodes {
		if n := b.nodes[(i+k)%len(b.nodes)]; !b.dead[n] {
			return n
		}
	}
	return b.nodes[i%len(b.nodes)]
}

func (b *balancer) down(n *node) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dead[n] = true
}

// seenOffer is one offer an agent's desktop received.
type seenOffer struct {
	res  *backend.Reservation
	node string
	at   time.Time
}

// agentRun is one agent's desktop in the multi-node test: it follows its
// live feed on a node, accepts every offer and completes the task at once,
// moving to the other node when its node is gone.
type agentRun struct {
	c      *agentClient
	lb     *balancer
	at     int // the node it started on
	worker string

	mu       sync.Mutex
	offers   []seenOffer
	accepted map[string]string // task → reservation
	failures []string
}

// newAgentRun signs an agent in on node i and makes them available.
func newAgentRun(lb *balancer, i int, email string) (*agentRun, error) {
	c, err := signInAgent(lb.pick(i).base, email, agentPassword)
	if err != nil {
		return nil, err
	}
	body, err := c.must("POST", "/api/me/activity", `{"activity":"Available"}`)
	var w backend.Worker
	if err != nil || json.Unmarshal(body, &w) != nil || !w.Available {
		return nil, fmt.Errorf("make %s available: %s %v", email, body, err)
	}
	return &agentRun{c: c, lb: lb, at: i, worker: w.ID, accepted: map[string]string{}}, nil
}

func (a *agentRun) fail(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failures = append(a.failures, fmt.Sprintf(a.c.email+": "+format, args...))
}

// run follows the agent's feed until ctx ends.
func (a *agentRun) run(ctx context.Context) {
	var handling sync.WaitGroup
	defer handling.Wait()
	seen := map[string]bool{}
	var since int64
	for ctx.Err() == nil {
		n := a.lb.pick(a.at)
		c := *a.c
		c.base = n.base
		f, err := c.follow(ctx, since)
		if err != nil {
			a.lb.down(n)
			continue
		}
		stop := context.AfterFunc(ctx, func() { f.ws.Close() })
		for {
			events, err := f.read()
			if err != nil {
				break
			}
			for _, e := range events {
				r, ok := offer(e, a.worker)
				if !ok || seen[r.ID] {
					continue // not an offer to this agent, or one published again
				}
				seen[r.ID] = true
				a.mu.Lock()
				a.offers = append(a.offers, seenOffer{res: r, node: n.name, at: time.Now()})
				a.mu.Unlock()
				handling.Add(1)
				go func() {
					defer handling.Done()
					a.work(ctx, r)
				}()
			}
		}
		stop()
		f.ws.Close()
		since = f.next
	}
}

// work accepts an offer and completes its task, on whichever node answers.
func (a *agentRun) work(ctx context.Context, r *backend.Reservation) {
	accepted := a.retry(ctx, "POST", "/api/reservations/"+r.ID+"/accept", "")
	if accepted != http.StatusOK && !a.holds(r.ID) {
		return // withdrawn meanwhile (timed out): routing offers it again
	}
	a.mu.Lock()
	a.accepted[r.TaskID] = r.ID
	a.mu.Unlock()
	if st := a.retry(ctx, "POST", "/api/tasks/"+r.TaskID+"/complete", `{"disposition":"resolved"}`); st != http.StatusOK && st != http.StatusConflict {
		a.fail("complete task %s: %d", r.TaskID, st)
	}
}

// retry makes a request until a node answers it with something other than
// 503 (the leader changed under it) and returns the status.
func (a *agentRun) retry(ctx context.Context, method, path, body string) int {
	for try := 0; ctx.Err() == nil && try < 20; try++ {
		n := a.lb.pick(a.at)
		c := *a.c
		c.base = n.base
		st, _, err := c.call(method, path, body)
		if err != nil {
			a.lb.down(n)
			continue
		}
		if st != http.StatusServiceUnavailable {
			return st
		}
	}
	return 0
}

// holds reports whether the agent holds reservation id (an accept whose
// answer was lost when the leader died may have taken effect).
func (a *agentRun) holds(id string) bool {
	c := *a.c
	c.base = a.lb.pick(a.at).base
	body, err := c.must("GET", "/api/me/reservations", "")
	var list []backend.Reservation
	if err != nil || json.Unmarshal(body, &list) != nil {
		return false
	}
	for _, r := range list {
		if r.ID == id && r.State != backend.ReservationPending {
			return true
		}
	}
	return false
}
