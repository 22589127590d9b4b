package routing

import (
	"sort"

	"switchboard/backend"
)

// before reports whether a is offered before b in queue q: higher priority
// first, then oldest (newest in a LIFO queue), then by ID.
func (q *queue) before(a, b *task) bool {
	if a.t.Priority != b.t.Priority {
		return a.t.Priority > b.t.Priority
	}
	if !a.t.CreatedAt.Equal(b.t.CreatedAt) {
		if q.q.LIFO {
			return a.t.CreatedAt.After(b.t.CreatedAt)
		}
		return a.t.CreatedAt.Before(b.t.CreatedAt)
	}
	return a.t.ID < b.t.ID
}

// globalBefore orders tasks across queues: priority, then age.
func globalBefore(a, b *task) bool {
	if a.t.Priority != b.t.Priority {
		return a.t.Priority > b.t.Priority
	}
	if !a.t.CreatedAt.Equal(b.t.CreatedAt) {
		return a.t.CreatedAt.Before(b.t.CreatedAt)
	}
	return a.t.ID < b.t.ID
}

func (q *queue) insert(t *task) {
	i := sort.Search(len(q.pending), func(i int) bool { return !q.before(q.pending[i], t) })
	q.pending = append(q.pending, nil)
	copy(q.pending[i+1:], q.pending[i:])
	q.pending[i] = t
}

func (q *queue) remove(t *task) {
	i := sort.Search(len(q.pending), func(i int) bool { return !q.before(q.pending[i], t) })
	for ; i < len(q.pending); i++ {
		if q.pending[i] == t {
			q.pending = append(q.pending[:i], q.pending[i+1:]...)
			return
		}
	}
	// Not where its key says: search everywhere (only after a resort).
	for i, x := range q.pending {
		if x == t {
			q.pending = append(q.pending[:i], q.pending[i+1:]...)
			return
		}
	}
}

// resort restores q's order after its ordering rule changed.
func (q *queue) resort() {
	sort.SliceStable(q.pending, func(i, j int) bool { return q.before(q.pending[i], q.pending[j]) })
}

// detach takes t out of its queue's indexes; attach puts it back. Every
// change to a task's state, queue or priority happens between the two.
func (e *Engine) detach(t *task) {
	q := e.queues[t.t.QueueID]
	if q == nil {
		return
	}
	q.byState[t.t.State]--
	if t.t.State == backend.TaskPending {
		q.remove(t)
	}
	e.touchQueueStats(q)
}

func (e *Engine) attach(t *task) {
	q := e.queues[t.t.QueueID]
	if q == nil || !t.t.Open() {
		return
	}
	q.byState[t.t.State]++
	if t.t.State == backend.TaskPending {
		q.insert(t)
	}
	e.touchQueueStats(q)
}

// setState moves t to state s.
func (e *Engine) setState(t *task, s string) {
	e.detach(t)
	t.t.State = s
	e.attach(t)
	e.touchTask(t)
}

// workerBefore orders available workers: longest idle first, then by ID.
func workerBefore(a, b *worker) bool {
	if !a.w.IdleSince.Equal(b.w.IdleSince) {
		return a.w.IdleSince.Before(b.w.IdleSince)
	}
	return a.w.ID < b.w.ID
}

func (e *Engine) availInsert(w *worker) {
	i := sort.Search(len(e.avail), func(i int) bool { return !workerBefore(e.avail[i], w) })
	e.avail = append(e.avail, nil)
	copy(e.avail[i+1:], e.avail[i:])
	e.avail[i] = w
}

func (e *Engine) availRemove(w *worker) {
	i := sort.Search(len(e.avail), func(i int) bool { return !workerBefore(e.avail[i], w) })
	if i < len(e.avail) && e.avail[i] == w {
		e.avail = append(e.avail[:i], e.avail[i+1:]...)
		return
	}
	for i, x := range e.avail {
		if x == w {
			e.avail = append(e.avail[:i], e.avail[i+1:]...)
			return
		}
	}
}

// setIdleSince moves w in the idle order.
func (e *Engine) setIdleSince(w *worker) {
	if w.w.Available {
		e.availRemove(w)
	}
	w.w.IdleSince = e.now()
	if w.w.Available {
		e.availInsert(w)
	}
	e.touchWorker(w)
}

// setAvailable changes whether w receives offers and keeps the queues'
// available-worker counts.
func (e *Engine) setAvailable(w *worker, av bool) {
	if w.w.Available == av {
		return
	}
	if w.w.Available {
		e.availRemove(w)
	}
	w.w.Available = av
	if av {
		w.w.IdleSince = e.now()
		e.availInsert(w)
	}
	d := 1
	if !av {
		d = -1
	}
	for _, q := range e.queueList {
		if w.elig[q] {
			q.available += d
			e.touchQueueStats(q)
		}
	}
	e.touchWorker(w)
}
