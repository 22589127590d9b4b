package routing

import (
	"sort"

	"github.com/google/btree"

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
	q.pendingOn[t.t.Channel]++
}

func (q *queue) remove(t *task) {
	if q.pendingOn[t.t.Channel]--; q.pendingOn[t.t.Channel] == 0 {
		delete(q.pendingOn, t.t.Channel)
	}
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

// waitsFor reports whether a task waits in q on a channel w has room for.
func (q *queue) waitsFor(w *worker) bool {
	for ch := range q.pendingOn {
		if w.hasRoom(ch) {
			return true
		}
	}
	return false
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

// workerSet holds workers in workerBefore order. It is a B-tree rather
// than a sorted slice: a worker who finishes a call moves to the end of
// the idle order, and with 10,000 available workers a slice moved 80 KB
// of pointers on every such change (slow while the collector runs, as
// every pointer moved goes through its write barrier).
type workerSet struct{ t *btree.BTreeG[*worker] }

func newWorkerSet() workerSet { return workerSet{btree.NewG(32, workerBefore)} }

func (s workerSet) insert(w *worker) { s.t.ReplaceOrInsert(w) }
func (s workerSet) remove(w *worker) { s.t.Delete(w) }

// each calls fn with each worker in order until fn returns false.
func (s workerSet) each(fn func(*worker) bool) { s.t.Ascend(fn) }

// list returns the workers in order.
func (s workerSet) list() []*worker {
	out := make([]*worker, 0, s.t.Len())
	s.each(func(w *worker) bool { out = append(out, w); return true })
	return out
}

func (e *Engine) availInsert(w *worker) { e.avail.insert(w) }
func (e *Engine) availRemove(w *worker) { e.avail.remove(w) }

// roomFor returns the available workers with room for a task of channel
// ch, longest idle first.
func (e *Engine) roomFor(ch string) workerSet {
	if set, ok := e.roomy[ch]; ok {
		return set
	}
	set := newWorkerSet()
	e.avail.each(func(w *worker) bool {
		if w.hasRoom(ch) {
			set.insert(w)
			w.inRoomy[ch] = true
		}
		return true
	})
	e.roomy[ch] = set
	return set
}

// syncRoom puts w in or takes it out of each channel's roomy list after
// its availability, load or capacity changed.
func (e *Engine) syncRoom(w *worker) {
	for ch, set := range e.roomy {
		want := w.w.Available && w.hasRoom(ch)
		if want == w.inRoomy[ch] {
			continue
		}
		if want {
			set.insert(w)
		} else {
			set.remove(w)
		}
		w.inRoomy[ch] = want
	}
}

// unlistRoom takes w out of every roomy list, before its idle time changes.
func (e *Engine) unlistRoom(w *worker) {
	for ch := range w.inRoomy {
		if w.inRoomy[ch] {
			e.roomy[ch].remove(w)
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
