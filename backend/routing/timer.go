package routing

import (
	"container/heap"
	"time"
)

// Deadline kinds.
const (
	dlReservation = iota // a pending offer expires
	dlEscalation         // a task's target timeout passes
	dlReoffer            // a declined task's cool-down ends
	dlWrapUp             // a task's wrap-up limit passes
)

type deadline struct {
	at   time.Time
	seq  int
	kind int
	id   string
}

// deadlineHeap orders deadlines by time, then by when they were added.
// Entries are never removed early: a handler checks that its deadline
// still applies.
type deadlineHeap []deadline

func (h deadlineHeap) Len() int { return len(h) }
func (h deadlineHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h deadlineHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)   { *h = append(*h, x.(deadline)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (e *Engine) schedule(at time.Time, kind int, id string) {
	e.dlSeq++
	heap.Push(&e.deadlines, deadline{at: at, seq: e.dlSeq, kind: kind, id: id})
}

// runDue handles every deadline at or before now.
func (e *Engine) runDue() {
	now := e.now()
	for len(e.deadlines) > 0 && !e.deadlines[0].at.After(now) {
		d := heap.Pop(&e.deadlines).(deadline)
		switch d.kind {
		case dlReservation:
			r := e.res[d.id]
			if r != nil && r.State == "pending" && !r.ExpiresAt.After(now) {
				e.expireReservation(r)
			}
		case dlEscalation:
			t := e.tasks[d.id]
			if t != nil && t.t.State == "pending" && !t.t.TargetExpiresAt.IsZero() && !t.t.TargetExpiresAt.After(now) {
				e.escalate(t)
				e.waiting = append(e.waiting, t)
			}
		case dlReoffer:
			if t := e.tasks[d.id]; t != nil && t.t.State == "pending" && e.forgive(t) {
				e.waiting = append(e.waiting, t)
			}
		case dlWrapUp:
			t := e.tasks[d.id]
			if t != nil && t.t.State == "wrapping" && !t.t.WrapUpEndsAt.IsZero() && !t.t.WrapUpEndsAt.After(now) {
				e.complete(t, "")
			}
		}
		e.settle()
	}
}

// arm sets the clock's timer for the earliest deadline.
func (e *Engine) arm() {
	if e.closed || !e.started {
		return
	}
	if len(e.deadlines) == 0 {
		return
	}
	at := e.deadlines[0].at
	if e.timerStop != nil && !e.timerAt.After(at) {
		return
	}
	if e.timerStop != nil {
		e.timerStop()
	}
	e.timerAt = at
	e.timerStop = e.clock.AfterFunc(at.Sub(e.clock.Now()), e.fire)
}

// fire is the timer's callback.
func (e *Engine) fire() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.timerStop = nil
	if e.broken {
		return
	}
	if err := e.finish(e.ctx, false); err != nil {
		e.log.Error("routing: timer", "err", err)
	}
}
