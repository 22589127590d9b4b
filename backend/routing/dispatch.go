package routing

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"switchboard/backend"
)

// eligible reports whether w matches t's queue target and its workflow
// target expression.
func (e *Engine) eligible(w *worker, t *task) bool {
	q := e.queues[t.t.QueueID]
	if q == nil {
		return false
	}
	if q.target.usesTask {
		if !e.ev.matchWorker(q.target, w, t.t.Attributes) {
			return false
		}
	} else if !w.elig[q] {
		return false
	}
	return e.ev.matchWorker(t.target, w, t.t.Attributes)
}

// hasRoom reports whether w can hold one more task of channel ch.
func (w *worker) hasRoom(ch string) bool { return w.load[ch] < w.w.CapacityFor(ch) }

// canTake reports whether t may be offered to w now.
func (e *Engine) canTake(w *worker, t *task) bool {
	return w.w.Available && w.hasRoom(t.t.Channel) && !t.rejected[w.w.ID] && e.eligible(w, t)
}

// dispatchTask offers t, if pending, to the best worker who can take it.
func (e *Engine) dispatchTask(t *task) bool {
	if t.t.State != backend.TaskPending {
		return false
	}
	q := e.queues[t.t.QueueID]
	if q == nil {
		return false
	}
	var best *worker
	var bestKey any
	e.roomFor(t.t.Channel).each(func(w *worker) bool {
		if !e.canTake(w, t) {
			return true
		}
		if q.q.OrderBy == "" {
			best = w
			return false
		}
		k := w.w.Attributes[q.q.OrderBy]
		if best == nil || attrBefore(k, bestKey, q.q.OrderAscending) {
			best, bestKey = w, k
		}
		return true
	})
	if best == nil {
		return false
	}
	e.offer(t, best, false)
	return true
}

// attrBefore reports whether attribute value a ranks before b: numbers and
// strings in the asked direction, and any value before a missing one.
func attrBefore(a, b any, asc bool) bool {
	if b == nil {
		return a != nil
	}
	if a == nil {
		return false
	}
	if fa, ok := toFloat(a); ok {
		if fb, ok := toFloat(b); ok {
			if asc {
				return fa < fb
			}
			return fa > fb
		}
		return true // numbers before other kinds
	}
	sa, sb := fmt.Sprint(a), fmt.Sprint(b)
	if _, ok := toFloat(b); ok {
		return false
	}
	if asc {
		return sa < sb
	}
	return sa > sb
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	}
	return 0, false
}

// fillWorker offers w the best waiting tasks it can take until it is full
// or nothing fits. Across queues the higher priority, then the older task
// wins.
func (e *Engine) fillWorker(w *worker) {
	for w.w.Available {
		var best *task
		for _, q := range e.queueList {
			if (!q.target.usesTask && !w.elig[q]) || !q.waitsFor(w) ||
				(q.target.pre != nil && !e.ev.matchWorker(q.target.pre, w, nil)) {
				continue
			}
			for _, t := range q.pending {
				if best != nil && !q.q.LIFO && !globalBefore(t, best) {
					break
				}
				if e.canTake(w, t) {
					if best == nil || globalBefore(t, best) {
						best = t
					}
					break
				}
			}
		}
		if best == nil {
			return
		}
		e.offer(best, w, false)
	}
}

// dispatchAll offers every waiting task, highest priority and oldest first.
func (e *Engine) dispatchAll() {
	for _, q := range e.queueList {
		e.waiting = append(e.waiting, q.pending...)
	}
	e.settle()
}

// settle offers work after a change: first the workers whose capacity or
// availability grew take the best tasks they can, then the tasks that
// started waiting are offered, highest priority and oldest first. Doing it
// in this order, after every task affected by the change waits again,
// keeps offers in priority and age order.
func (e *Engine) settle() {
	for len(e.freed) > 0 || len(e.waiting) > 0 {
		freed := e.freed
		e.freed = nil
		for _, w := range freed {
			e.fillWorker(w)
		}
		waiting := e.waiting
		e.waiting = nil
		for _, t := range e.offerOrder(waiting) {
			e.dispatchTask(t)
		}
	}
}

// offerOrder sorts tasks each in its queue's order, and interleaves the
// queues by priority, then age.
func (e *Engine) offerOrder(ts []*task) []*task {
	byQueue := map[string][]*task{}
	var ids []string
	seen := map[*task]bool{}
	for _, t := range ts {
		if seen[t] {
			continue
		}
		seen[t] = true
		if byQueue[t.t.QueueID] == nil {
			ids = append(ids, t.t.QueueID)
		}
		byQueue[t.t.QueueID] = append(byQueue[t.t.QueueID], t)
	}
	sort.Strings(ids)
	heads := make([][]*task, 0, len(ids))
	for _, id := range ids {
		list := byQueue[id]
		if q := e.queues[id]; q != nil {
			sort.SliceStable(list, func(i, j int) bool { return q.before(list[i], list[j]) })
		}
		heads = append(heads, list)
	}
	out := make([]*task, 0, len(seen))
	for {
		best := -1
		for i, h := range heads {
			if len(h) > 0 && (best < 0 || globalBefore(h[0], heads[best][0])) {
				best = i
			}
		}
		if best < 0 {
			return out
		}
		out = append(out, heads[best][0])
		heads[best] = heads[best][1:]
	}
}

// reservationTimeout is how long an offer of t stands.
func (e *Engine) reservationTimeout(t *task) time.Duration {
	if wf := e.workflows[t.t.WorkflowID]; wf != nil && wf.wf.ReservationTimeoutSeconds > 0 {
		return time.Duration(wf.wf.ReservationTimeoutSeconds) * time.Second
	}
	return e.opts.ReservationTimeout
}

// offer reserves t, pending, for w. direct offers (transfers) skip the
// order check the simulation runs.
func (e *Engine) offer(t *task, w *worker, direct bool) {
	if e.debug && !direct {
		e.checkOffer(t, w)
	}
	now := e.now()
	r := &backend.Reservation{
		ID: e.opts.NewID("res"), TaskID: t.t.ID, WorkerID: w.w.ID, Channel: t.t.Channel, QueueID: t.t.QueueID,
		State: backend.ReservationPending, ExpiresAt: now.Add(e.reservationTimeout(t)), CreatedAt: now, UpdatedAt: now,
	}
	t.res = r
	t.t.WorkerID = w.w.ID
	e.setState(t, backend.TaskReserved)
	e.res[r.ID] = r
	w.res[r.ID] = r
	w.load[t.t.Channel]++
	e.syncRoom(w)
	e.touchReservation(r)
	e.count(t, w, func(c *backend.RoutingCounters) { c.Offered++ })
	e.schedule(r.ExpiresAt, dlReservation, r.ID)
}

// count applies f to the counters of t's queue and of w (when not nil).
func (e *Engine) count(t *task, w *worker, f func(*backend.RoutingCounters)) {
	if q := e.queues[t.t.QueueID]; q != nil {
		f(&q.counters)
		e.touchQueueStats(q)
	}
	if w != nil {
		f(&w.counters)
		e.touchWorkerStats(w)
	}
}

// release ends t's active reservation in state s and frees the worker's
// capacity. It returns the worker.
func (e *Engine) release(t *task, s string) *worker {
	r := t.res
	if r == nil {
		return nil
	}
	r.State = s
	r.UpdatedAt = e.now()
	e.touchReservation(r)
	t.res = nil
	delete(e.res, r.ID)
	w := e.workers[r.WorkerID]
	if w != nil {
		e.freed = append(e.freed, w)
		delete(w.res, r.ID)
		w.load[r.Channel]--
		if w.load[r.Channel] <= 0 {
			delete(w.load, r.Channel)
		}
		e.syncRoom(w)
		e.touchWorkerStats(w)
	}
	return w
}

// requeue puts t back to waiting after its offer ended, escalating first
// when its target's timeout already passed.
func (e *Engine) requeue(t *task) {
	t.t.WorkerID = ""
	e.forgive(t)
	e.setState(t, backend.TaskPending)
	e.waiting = append(e.waiting, t)
	if exp := t.t.TargetExpiresAt; !exp.IsZero() && !exp.After(e.now()) {
		e.escalate(t)
	}
}

// reject records that w turned t down or let it time out. The task is not
// offered to w again until its cool-down (the workflow's ReofferSeconds)
// has passed since the last decline.
func (e *Engine) reject(t *task, w *worker) {
	if w == nil {
		return
	}
	if !t.rejected[w.w.ID] {
		t.rejected[w.w.ID] = true
		t.t.RejectedBy = append(t.t.RejectedBy, w.w.ID)
	}
	t.t.RetryAt = e.now().Add(e.reofferDelay(t))
	e.schedule(t.t.RetryAt, dlReoffer, t.t.ID)
}

// unreject forgets that the worker id declined t.
func (e *Engine) unreject(t *task, id string) {
	if !t.rejected[id] {
		return
	}
	delete(t.rejected, id)
	t.t.RejectedBy = slices.DeleteFunc(t.t.RejectedBy, func(x string) bool { return x == id })
}

// reofferDelay is the cool-down before t goes back to those who declined it.
func (e *Engine) reofferDelay(t *task) time.Duration {
	if wf := e.workflows[t.t.WorkflowID]; wf != nil && wf.wf.ReofferSeconds > 0 {
		return time.Duration(wf.wf.ReofferSeconds) * time.Second
	}
	return e.reservationTimeout(t)
}

// forgive clears t's declines once its cool-down has passed, so the
// workers who declined may be offered it again. It reports whether it did.
func (e *Engine) forgive(t *task) bool {
	if t.t.RetryAt.IsZero() || t.t.RetryAt.After(e.now()) {
		return false
	}
	t.rejected = map[string]bool{}
	t.t.RejectedBy, t.t.RetryAt = nil, time.Time{}
	e.touchTask(t)
	return true
}

// expireReservation handles an offer nobody answered in time: the worker
// is told they missed it, and the task moves on.
func (e *Engine) expireReservation(r *backend.Reservation) {
	t := e.tasks[r.TaskID]
	w := e.release(t, backend.ReservationTimeout)
	e.dirty.missed = append(e.dirty.missed, &backend.MissedOffer{
		ReservationID: r.ID, TaskID: t.t.ID, WorkerID: r.WorkerID, ConversationID: t.t.ConversationID,
		Channel: r.Channel, QueueID: r.QueueID, OfferedAt: r.CreatedAt, ExpiredAt: r.UpdatedAt,
	})
	e.reject(t, w)
	e.count(t, w, func(c *backend.RoutingCounters) { c.TimedOut++ })
	e.requeue(t)
	if w != nil && e.opts.TimeoutActivity != "" && e.activities[e.opts.TimeoutActivity] != nil {
		e.changeActivity(w, e.opts.TimeoutActivity)
	}
	e.settle()
}
