package routing

import (
	"errors"
	"fmt"
	"maps"
	"sort"

	"switchboard/backend"
)

// checkOffer records a violation when w is offered t although it could
// take a task that its queue ranks before t, or rejected t before.
func (e *Engine) checkOffer(t *task, w *worker) {
	if t.rejected[w.w.ID] {
		e.violations = append(e.violations, fmt.Sprintf("task %s offered again to %s, who rejected it", t.t.ID, w.w.ID))
	}
	q := e.queues[t.t.QueueID]
	for _, u := range q.pending {
		if u == t {
			return
		}
		if e.canTake(w, u) {
			e.violations = append(e.violations, fmt.Sprintf("task %s (priority %d) offered to %s before %s (priority %d) of queue %s",
				t.t.ID, t.t.Priority, w.w.ID, u.t.ID, u.t.Priority, q.q.ID))
			return
		}
	}
}

// checkInvariants verifies the engine's bookkeeping: every open task is in
// exactly the place its state says, a task holds at most one active
// reservation, no worker is over capacity, only available workers hold
// pending offers, the indexes are ordered and the counts agree. full also
// checks that no available worker could take a waiting task.
func (e *Engine) checkInvariants(full bool) error {
	errs := make([]error, 0)
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, v := range e.violations {
		bad("%s", v)
	}
	e.violations = nil
	inPending := map[*task]int{}
	counts := map[string]map[string]int{}
	for _, t := range e.tasks {
		if counts[t.t.QueueID] == nil {
			counts[t.t.QueueID] = map[string]int{}
		}
		counts[t.t.QueueID][t.t.State]++
	}
	for _, q := range e.queueList {
		counts := counts[q.q.ID]
		on := map[string]int{}
		for i, t := range q.pending {
			inPending[t]++
			on[t.t.Channel]++
			if t.t.State != backend.TaskPending || t.t.QueueID != q.q.ID {
				bad("queue %s lists task %s (%s in %s) as waiting", q.q.ID, t.t.ID, t.t.State, t.t.QueueID)
			}
			if i > 0 && !q.before(q.pending[i-1], t) {
				bad("queue %s out of order at %d", q.q.ID, i)
			}
		}
		if !maps.Equal(on, q.pendingOn) {
			bad("queue %s counts its waiting tasks by channel as %v, want %v", q.q.ID, q.pendingOn, on)
		}
		for _, s := range []string{backend.TaskPending, backend.TaskReserved, backend.TaskAssigned, backend.TaskWrapping} {
			if counts[s] != q.byState[s] {
				bad("queue %s counts %d %s tasks, has %d", q.q.ID, q.byState[s], s, counts[s])
			}
		}
		elig, avail := 0, 0
		for _, w := range e.workers {
			if full && e.ev.run(q.target, w.w.Attributes, nil) != w.elig[q] {
				bad("worker %s has a stale verdict for queue %s", w.w.ID, q.q.ID)
			}
			if w.elig[q] != q.members[w] {
				bad("worker %s membership of queue %s disagrees with its verdict", w.w.ID, q.q.ID)
			}
			if w.elig[q] {
				elig++
				if w.w.Available {
					avail++
				}
			}
		}
		if elig != q.eligible || avail != q.available {
			bad("queue %s counts %d/%d eligible/available workers, has %d/%d", q.q.ID, q.eligible, q.available, elig, avail)
		}
	}
	perTask := map[string]int{}
	for id, r := range e.res {
		perTask[r.TaskID]++
		if id != r.ID || !r.Active() {
			bad("reservation %s is %s but still active", r.ID, r.State)
		}
		if t := e.tasks[r.TaskID]; t == nil || t.res != r {
			bad("reservation %s does not belong to an open task", r.ID)
		}
		if w := e.workers[r.WorkerID]; w == nil || w.res[r.ID] != r {
			bad("reservation %s is not held by worker %s", r.ID, r.WorkerID)
		} else if r.State == backend.ReservationPending && !w.w.Available {
			bad("reservation %s is pending for unavailable worker %s", r.ID, r.WorkerID)
		}
	}
	for tid, n := range perTask {
		if n > 1 {
			bad("task %s has %d active reservations", tid, n)
		}
	}
	for _, t := range e.tasks {
		e.checkTask(t, inPending[t], bad)
	}
	e.checkWorkers(bad)
	if full {
		avails := e.avail.list()
		for _, q := range e.queueList {
			for _, t := range q.pending {
				for _, w := range avails {
					if e.canTake(w, t) {
						bad("task %s waits in %s although worker %s could take it", t.t.ID, q.q.ID, w.w.ID)
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

func (e *Engine) checkTask(t *task, listed int, bad func(string, ...any)) {
	want := map[string]string{
		backend.TaskReserved: backend.ReservationPending,
		backend.TaskAssigned: backend.ReservationAccepted,
		backend.TaskWrapping: backend.ReservationWrapping,
	}
	switch t.t.State {
	case backend.TaskPending:
		if listed != 1 || t.res != nil {
			bad("waiting task %s is listed %d times with reservation %v", t.t.ID, listed, t.res != nil)
		}
	case backend.TaskReserved, backend.TaskAssigned, backend.TaskWrapping:
		if listed != 0 || t.res == nil || t.res.State != want[t.t.State] || t.res.WorkerID != t.t.WorkerID {
			bad("%s task %s has a wrong reservation", t.t.State, t.t.ID)
		}
	default:
		bad("task %s is %s but still open", t.t.ID, t.t.State)
	}
	if e.queues[t.t.QueueID] == nil {
		bad("task %s is in unknown queue %s", t.t.ID, t.t.QueueID)
	}
}

func (e *Engine) checkWorkers(bad func(string, ...any)) {
	avail := 0
	for _, w := range e.workers {
		load := map[string]int{}
		for _, r := range w.res {
			load[r.Channel]++
			if e.res[r.ID] != r {
				bad("worker %s holds ended reservation %s", w.w.ID, r.ID)
			}
		}
		for ch, n := range load {
			if w.load[ch] != n {
				bad("worker %s counts %d %s tasks, holds %d", w.w.ID, w.load[ch], ch, n)
			}
			if n > w.w.CapacityFor(ch) {
				bad("worker %s holds %d %s tasks over a capacity of %d", w.w.ID, n, ch, w.w.CapacityFor(ch))
			}
		}
		if a := e.activities[w.w.Activity]; a == nil || a.Available != w.w.Available {
			bad("worker %s availability disagrees with activity %s", w.w.ID, w.w.Activity)
		}
		if w.w.Available {
			avail++
		}
	}
	avails := e.avail.list()
	for ch, set := range e.roomy {
		list := set.list()
		n := 0
		for _, w := range avails {
			if w.hasRoom(ch) {
				if n >= len(list) || list[n] != w || !w.inRoomy[ch] {
					bad("the %s room list disagrees at %d", ch, n)
					break
				}
				n++
			}
		}
		if n != len(list) {
			bad("the %s room list has %d workers, want %d", ch, len(list), n)
		}
	}
	if avail != len(avails) || !sort.SliceIsSorted(avails, func(i, j int) bool { return workerBefore(avails[i], avails[j]) }) {
		bad("the available list has %d workers (want %d) or is out of order", len(avails), avail)
	}
}
