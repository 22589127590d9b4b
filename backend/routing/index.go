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

func insertWorker(list []*worker, w *worker) []*worker {
	i := sort.Search(len(list), func(i int) bool { return !workerBefore(list[i], w) })
	list = append(list, nil)
	copy(list[i+1:], list[i:])
	list[i] = w
	return list
}

func removeWorker(list []*worker, w *worker) []*worker {
	i := sort.Search(len(list), func(i int) bool { return !workerBefore(list[i], w) })
	if i < len(list) && list[i] == w {
		return append(list[:i], list[i+1:]...)
	}
	for i, x := range list {
		if x == w {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

func (e *Engine) availInsert(w *worker) { e.avail = insertWorker(e.avail, w) }
func (e *Engine) availRemove(w *worker) { e.avail = removeWorker(e.avail, w) }

// roomFor returns the available workers with room for a task of channel
// ch, longest idle first.
func (e *Engine) roomFor(ch string) []*worker {
	if list, ok := e.roomy[ch]; ok {
		return list
	}
	var list []*worker
	for _, w := range e.avail {
		if w.hasRoom(ch) {
			list = append(list, w)
			w.inRoomy[ch] = true
		}
	}
	e.roomy[ch] = list
	return list
}

// syncRoom puts w in or takes it out of each channel's roomy list after
// its availability, load or capacity changed.
func (e *Engine) syncRoom(w *worker) {
	for ch, list := range e.roomy {
		want := w.w.Available && w.hasRoom(ch)
		if want == w.inRoomy[ch] {
			continue
		}
		if want {
			e.roomy[ch] = insertWorker(list, w)
		} else {
			e.roomy[ch] = removeWorker(list, w)
		}
		w.inRoomy[ch] = want
	}
}

// unlistRoom takes w out of every roomy list, before its idle time changes.
func (e *Engine) unlistRoom(w *worker) {
	for ch := range w.inRoomy {
		if w.inRoomy[ch] {
			e.roomy[ch] = removeWorker(e.roomy[ch], w)
			w.inRoomy[ch] = false
		}
	}
}

// setIdleSince moves w in the idle order.
func (e *Engine) setIdleSince(w *worker) {
	e.unlistRoom(w)
	if w.w.Available {
		e.availRemove(w)
	}
	w.w.IdleSince = e.now()
	if w.w.Available {
		e.availInsert(w)
	}
	e.syncRoom(w)
	e.touchWorker(w)
}

// setAvailable changes whether w receives offers and keeps the queues'
// available-worker counts.
func (e *Engine) setAvailable(w *worker, av bool) {
	if w.w.Available == av {
		return
	}
	e.unlistRoom(w)
	if w.w.Available {
		e.availRemove(w)
	}
	w.w.Available = av
	if av {
		w.w.IdleSince = e.now()
		e.availInsert(w)
	}
	e.syncRoom(w)
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
