package channels

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Waits before a poller reconnects: the first after a connection the
// platform had accepted, doubled after each failure in a row up to the
// cap, each with ±20% jitter so many instances do not reconnect at once.
const (
	PollRetryMin = time.Second
	PollRetryMax = 5 * time.Second
)

// pollerRun is one running poller goroutine.
type pollerRun struct {
	inst   *instance
	cancel context.CancelFunc
	done   chan struct{}
}

// syncPollers stops the pollers of instances that stopped or were rebuilt
// and starts those of new and rebuilt instances; the others keep running
// (their connections untouched).
func (h *Hub) syncPollers() {
	h.runMu.Lock()
	defer h.runMu.Unlock()
	h.syncPollersLocked()
}

// syncPollersLocked is syncPollers with runMu held. A poller being
// replaced has ended before its successor starts, so two never share an
// instance's session.
func (h *Hub) syncPollersLocked() {
	h.mu.RLock()
	current := h.instances
	h.mu.RUnlock()
	live := h.pollCtx != nil && h.pollCtx.Err() == nil
	for key, run := range h.pollers {
		if inst := current[key]; !live || inst != run.inst {
			run.cancel()
			<-run.done
			delete(h.pollers, key)
		}
	}
	if !live {
		return
	}
	for key, inst := range current {
		p, ok := inst.connector.(Poller)
		if _, running := h.pollers[key]; running || !ok || !p.Polling() {
			continue
		}
		ctx, cancel := context.WithCancel(h.pollCtx)
		run := &pollerRun{inst: inst, cancel: cancel, done: make(chan struct{})}
		h.pollers[key] = run
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			defer close(run.done)
			h.runPoller(ctx, key, inst, p)
		}()
	}
}

// pollLink is the hub's side of one poller (PollLink).
type pollLink struct {
	h                   *Hub
	key                 string
	connector, instance string
	connected           atomic.Bool
}

func (l *pollLink) Deliver(ctx context.Context, wh *Webhook) error {
	return l.h.deliver(ctx, l.connector, l.instance, wh)
}

func (l *pollLink) Connected() {
	l.connected.Store(true)
	l.h.health.connected(l.key, l.h.clock.Now())
}

func (l *pollLink) State(ctx context.Context) ([]byte, error) {
	return l.h.store.PollerState(ctx, l.connector, l.instance)
}

func (l *pollLink) SaveState(ctx context.Context, state []byte) error {
	return l.h.store.SavePollerState(ctx, l.connector, l.instance, state)
}

// runPoller keeps a poller running: after a dropped connection it waits a
// little (starting over once a connection was accepted) and reconnects;
// after a FinalError it stops, and the instance shows why.
func (h *Hub) runPoller(ctx context.Context, key string, inst *instance, p Poller) {
	link := &pollLink{h: h, key: key, connector: inst.info.ID, instance: inst.name}
	delay := PollRetryMin
	for ctx.Err() == nil {
		link.connected.Store(false)
		err := p.Poll(ctx, link)
		if ctx.Err() != nil {
			return
		}
		now := h.clock.Now()
		var fe *FinalError
		if errors.As(err, &fe) {
			h.log.Error("poller stopped: the platform refused it", "connector", link.connector, "instance", link.instance, "error", err)
			h.health.stop(key, fe.Reason, now)
			return
		}
		if link.connected.Load() {
			delay = PollRetryMin
		}
		wait := jitter(delay)
		var se *SendError
		if errors.As(err, &se) && se.RetryAfter > wait {
			wait = se.RetryAfter
		}
		msg := "The connection ended."
		if err != nil {
			msg = healthText(err)
		}
		h.log.Warn("poller connection ended, reconnecting", "connector", link.connector, "instance", link.instance, "error", err, "wait", wait)
		h.health.note(key, msg, now, now.Add(wait))
		select {
		case <-ctx.Done():
			return
		case <-h.clock.After(wait):
		}
		delay = min(delay*2, PollRetryMax)
	}
}

// jitter spreads d by ±20%.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
