package routing

import (
	"context"

	"switchboard/backend"
)

// TakeTask gives a waiting task to the worker who picked it from one of
// their queues: the router reserves it to them and assigns it at once,
// withdrawing a pending offer of it to someone else. The worker must serve
// the task's queue and have room for one more task of its channel; taking
// a task they declined earlier is allowed. Returns ENotFound for an unknown
// worker or an ended task, EForbidden (ReasonNotInQueue) when the worker
// does not serve its queue, and EConflict when another worker has accepted
// it (ReasonTaskTaken) or the worker is at capacity (ReasonNoCapacity).
func (e *Engine) TakeTask(ctx context.Context, taskID, workerID string) (*backend.Reservation, error) {
	return e.claim(ctx, taskID, workerID, true)
}

// Serves reports whether the worker serves the queue an open task waits
// in (and matches its workflow's target), as TakeTask requires. Returns
// ENotFound for an unknown worker or an ended task.
func (e *Engine) Serves(ctx context.Context, taskID, workerID string) (bool, error) {
	if err := e.begin(); err != nil {
		return false, err
	}
	defer e.mu.Unlock()
	w := e.workers[workerID]
	if w == nil {
		return false, backend.Errorf(backend.ENotFound, "Worker %s does not exist.", workerID)
	}
	t := e.tasks[taskID]
	if t == nil {
		return false, backend.ReasonErrorf(backend.ENotFound, backend.ReasonTaskEnded, "Task %s does not exist or has ended.", taskID)
	}
	return e.eligible(w, t), nil
}

// AssignTask is a supervisor's choice: it gives a waiting or offered task
// to a named worker, whether or not they serve its queue, as long as they
// have room for it. Errors are those of TakeTask, without EForbidden.
func (e *Engine) AssignTask(ctx context.Context, taskID, workerID string) (*backend.Reservation, error) {
	return e.claim(ctx, taskID, workerID, false)
}

// claim reserves t to w and accepts the reservation in one decision.
func (e *Engine) claim(ctx context.Context, taskID, workerID string, ownQueue bool) (*backend.Reservation, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	w := e.workers[workerID]
	if w == nil {
		return nil, backend.Errorf(backend.ENotFound, "Worker %s does not exist.", workerID)
	}
	t, err := e.openTask(taskID, backend.TaskPending, backend.TaskReserved, backend.TaskAssigned, backend.TaskWrapping)
	if err != nil {
		return nil, err
	}
	if t.t.State == backend.TaskAssigned || t.t.State == backend.TaskWrapping {
		holder := t.t.WorkerID
		if h := e.workers[holder]; h != nil {
			holder = h.w.Name
		}
		return nil, backend.ReasonErrorf(backend.EConflict, backend.ReasonTaskTaken, "%s is already handling this task.", holder)
	}
	if ownQueue && !e.eligible(w, t) {
		return nil, backend.ReasonErrorf(backend.EForbidden, backend.ReasonNotInQueue, "%s does not serve the queue this task waits in.", w.w.Name)
	}
	if r := t.res; r != nil && r.WorkerID == w.w.ID {
		e.accept(r, t) // taking one's own offer is accepting it
		return e.claimed(ctx, r)
	}
	if !w.hasRoom(t.t.Channel) {
		return nil, backend.ReasonErrorf(backend.EConflict, backend.ReasonNoCapacity,
			"%s already has %d %s tasks, their capacity; one must end first.", w.w.Name, w.load[t.t.Channel], t.t.Channel)
	}
	if t.res != nil {
		if other := e.release(t, backend.ReservationRescinded); other != nil {
			other.counters.Canceled++
		}
		t.t.WorkerID = ""
		e.setState(t, backend.TaskPending)
	}
	e.unreject(t, w.w.ID)
	e.offer(t, w, true)
	r := t.res
	e.accept(r, t)
	return e.claimed(ctx, r)
}

// claimed writes the decision and returns a copy of its reservation.
func (e *Engine) claimed(ctx context.Context, r *backend.Reservation) (*backend.Reservation, error) {
	if err := e.finish(ctx, false); err != nil {
		return nil, err
	}
	return cloneReservation(r), nil
}
