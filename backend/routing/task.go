package routing

import (
	"context"
	"sort"
	"strings"
	"time"

	"switchboard/backend"
)

// CreateTask creates a task and routes it: through in.QueueID straight to
// that queue, else through its workflow (in.WorkflowID, or the oldest: the default).
// It is offered at once if a worker can take it. Returns EInvalid for a
// missing channel or an unknown workflow or queue.
func (e *Engine) CreateTask(ctx context.Context, in backend.TaskInput) (*backend.Task, error) {
	ch := strings.TrimSpace(in.Channel)
	if ch == "" {
		return nil, backend.Errorf(backend.EInvalid, "A task needs a channel (voice, chat, email …).")
	}
	if in.WorkflowID != "" && in.QueueID != "" {
		return nil, backend.Errorf(backend.EInvalid, "Give a task a workflow or a queue, not both.")
	}
	attrs, err := normalizeAttrs("task", in.Attributes)
	if err != nil {
		return nil, err
	}
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	now := e.now()
	t := &task{rejected: map[string]bool{}, t: &backend.Task{
		ID: e.opts.NewID("task"), Channel: ch, Attributes: attrs, Priority: in.Priority, ConversationID: in.ConversationID,
		State: backend.TaskPending, CreatedAt: now, UpdatedAt: now,
	}}
	if in.QueueID != "" {
		if e.queues[in.QueueID] == nil {
			return nil, backend.Errorf(backend.EInvalid, "Queue %s does not exist.", in.QueueID)
		}
		t.t.QueueID = in.QueueID
	} else {
		wf, err := e.pickWorkflow(in.WorkflowID)
		if err != nil {
			return nil, err
		}
		t.t.WorkflowID = wf.wf.ID
		e.placeAt(t, wf, e.matchFilter(wf, t), 0)
	}
	e.tasks[t.t.ID] = t
	e.indexTask(t)
	e.attach(t)
	e.touchTask(t)
	e.waiting = append(e.waiting, t)
	if err := e.finish(ctx, false); err != nil {
		return nil, err
	}
	return cloneTask(t.t), nil
}

func (e *Engine) pickWorkflow(id string) (*workflow, error) {
	if id != "" {
		if wf := e.workflows[id]; wf != nil {
			return wf, nil
		}
		return nil, backend.Errorf(backend.EInvalid, "Workflow %s does not exist.", id)
	}
	// The workspace's first workflow is its default: flows that name
	// none hand their tasks to it.
	var first *workflow
	for _, wf := range e.workflows {
		if first == nil || wf.wf.CreatedAt.Before(first.wf.CreatedAt) ||
			(wf.wf.CreatedAt.Equal(first.wf.CreatedAt) && wf.wf.ID < first.wf.ID) {
			first = wf
		}
	}
	if first == nil {
		return nil, backend.Errorf(backend.EInvalid, "There is no workflow to route the task; an admin must create one.")
	}
	return first, nil
}

// pendingReservation returns the pending reservation id and its task.
func (e *Engine) pendingReservation(id string) (*backend.Reservation, *task, error) {
	r := e.res[id]
	if r == nil {
		return nil, nil, backend.ReasonErrorf(backend.ENotFound, backend.ReasonOfferGone, "Reservation %s does not exist or has ended.", id)
	}
	if r.State != backend.ReservationPending {
		return nil, nil, backend.ReasonErrorf(backend.EConflict, backend.ReasonOfferGone, "Reservation %s is %s, not pending.", id, r.State)
	}
	return r, e.tasks[r.TaskID], nil
}

// AcceptReservation assigns the offered task to the worker. Returns
// ENotFound for an unknown or ended reservation and EConflict when it is
// no longer pending.
func (e *Engine) AcceptReservation(ctx context.Context, id string) (*backend.Reservation, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	r, t, err := e.pendingReservation(id)
	if err != nil {
		return nil, err
	}
	e.accept(r, t)
	if err := e.finish(ctx, false); err != nil {
		return nil, err
	}
	return cloneReservation(r), nil
}

// accept assigns t to the worker of its pending reservation r.
func (e *Engine) accept(r *backend.Reservation, t *task) {
	w := e.workers[r.WorkerID]
	now := e.now()
	r.State, r.UpdatedAt = backend.ReservationAccepted, now
	e.touchReservation(r)
	first := t.t.AssignedAt.IsZero()
	t.t.AssignedAt = now
	t.t.RetryAt = time.Time{}
	e.setState(t, backend.TaskAssigned)
	wait := now.Sub(t.t.CreatedAt)
	sla := backend.DefaultSLA
	if q := e.queues[t.t.QueueID]; q != nil {
		sla = q.q.SLA()
	}
	e.count(t, w, func(c *backend.RoutingCounters) {
		c.Accepted++
		if first {
			c.Answered++
			c.WaitMillis += wait.Milliseconds()
			if wait <= sla {
				c.WithinSLA++
			}
		}
	})
	e.setIdleSince(w)
}

// RejectReservation declines an offer: the task is offered to the next
// worker and never again to this one. Returns ENotFound or EConflict like
// AcceptReservation.
func (e *Engine) RejectReservation(ctx context.Context, id string) (*backend.Reservation, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	r, t, err := e.pendingReservation(id)
	if err != nil {
		return nil, err
	}
	w := e.release(t, backend.ReservationRejected)
	e.reject(t, w)
	e.count(t, w, func(c *backend.RoutingCounters) { c.Rejected++ })
	e.requeue(t)
	if err := e.finish(ctx, false); err != nil {
		return nil, err
	}
	return cloneReservation(r), nil
}

// openTask returns the open task id in one of the states.
func (e *Engine) openTask(id string, states ...string) (*task, error) {
	t := e.tasks[id]
	if t == nil {
		return nil, backend.ReasonErrorf(backend.ENotFound, backend.ReasonTaskEnded, "Task %s does not exist or has ended.", id)
	}
	for _, s := range states {
		if t.t.State == s {
			return t, nil
		}
	}
	return nil, backend.Errorf(backend.EConflict, "Task %s is %s, not %s.", id, t.t.State, strings.Join(states, " or "))
}

// WrapUp moves an assigned task to wrapping with a disposition code; the
// worker keeps its capacity until CompleteTask, or until the workflow's
// wrap-up limit passes and the task completes by itself. Returns ENotFound
// or EConflict.
func (e *Engine) WrapUp(ctx context.Context, taskID, disposition string) (*backend.Task, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	t, err := e.openTask(taskID, backend.TaskAssigned)
	if err != nil {
		return nil, err
	}
	now := e.now()
	t.res.State, t.res.UpdatedAt = backend.ReservationWrapping, now
	e.touchReservation(t.res)
	t.t.Disposition = disposition
	t.t.WrapUpAt, t.t.WrapUpEndsAt = now, time.Time{}
	if limit := e.wrapUpLimit(t); limit > 0 {
		t.t.WrapUpEndsAt = now.Add(limit)
		e.schedule(t.t.WrapUpEndsAt, dlWrapUp, t.t.ID)
	}
	e.setState(t, backend.TaskWrapping)
	if err := e.finish(ctx, false); err != nil {
		return nil, err
	}
	return cloneTask(t.t), nil
}

// CompleteTask ends an assigned or wrapping task and frees the worker's
// capacity. An empty disposition keeps the one given at wrap-up. Returns
// ENotFound or EConflict.
func (e *Engine) CompleteTask(ctx context.Context, taskID, disposition string) (*backend.Task, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	t, err := e.openTask(taskID, backend.TaskAssigned, backend.TaskWrapping)
	if err != nil {
		return nil, err
	}
	e.complete(t, disposition)
	if err := e.finish(ctx, false); err != nil {
		return nil, err
	}
	return cloneTask(t.t), nil
}

// complete ends an assigned or wrapping t and frees its worker; an empty
// disposition keeps the one given at wrap-up.
func (e *Engine) complete(t *task, disposition string) {
	if disposition != "" {
		t.t.Disposition = disposition
	}
	w := e.release(t, backend.ReservationCompleted)
	e.finishAccess(t, w)
	handle := e.now().Sub(t.t.AssignedAt)
	e.count(t, w, func(c *backend.RoutingCounters) { c.Completed++; c.HandleMillis += handle.Milliseconds() })
	e.end(t, backend.TaskCompleted)
	if w != nil {
		e.setIdleSince(w)
	}
}

// wrapUpLimit is how long t may stay in wrap-up; 0 means no limit.
func (e *Engine) wrapUpLimit(t *task) time.Duration {
	if wf := e.workflows[t.t.WorkflowID]; wf != nil && wf.wf.WrapUpSeconds > 0 {
		return time.Duration(wf.wf.WrapUpSeconds) * time.Second
	}
	return e.opts.WrapUpLimit
}

// end closes t in state s and forgets it.
func (e *Engine) end(t *task, s string) {
	t.t.EndedAt = e.now()
	t.t.TargetExpiresAt = time.Time{}
	e.setState(t, s)
	delete(e.tasks, t.t.ID)
	e.unindexTask(t)
}

// CancelTask ends a waiting or offered task (the customer left), keeping
// the reason. Returns ENotFound, or EConflict once it is assigned.
func (e *Engine) CancelTask(ctx context.Context, taskID, reason string) (*backend.Task, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	t, err := e.openTask(taskID, backend.TaskPending, backend.TaskReserved)
	if err != nil {
		return nil, err
	}
	if reason = strings.TrimSpace(reason); reason == "" {
		reason = "canceled"
	}
	w := e.release(t, backend.ReservationCanceled)
	e.count(t, nil, func(c *backend.RoutingCounters) { c.Canceled++ })
	if w != nil {
		w.counters.Canceled++
	}
	t.t.Reason = reason
	e.end(t, backend.TaskCanceled)
	if err := e.finish(ctx, false); err != nil {
		return nil, err
	}
	return cloneTask(t.t), nil
}

// TransferTask moves an assigned task to another worker (offered to them,
// back to its queue if they decline) or to a queue (which takes it out of
// its workflow). The first worker is not offered it again. Returns
// EInvalid for a bad target, ENotFound, or EConflict when the task is not
// assigned or the worker cannot take it now.
func (e *Engine) TransferTask(ctx context.Context, taskID string, to backend.TransferTarget) (*backend.Task, error) {
	if (to.WorkerID == "") == (to.QueueID == "") {
		return nil, backend.Errorf(backend.EInvalid, "Transfer to a worker or to a queue.")
	}
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	t, err := e.openTask(taskID, backend.TaskAssigned)
	if err != nil {
		return nil, err
	}
	var w2 *worker
	if to.WorkerID != "" {
		if w2 = e.workers[to.WorkerID]; w2 == nil {
			return nil, backend.Errorf(backend.ENotFound, "Worker %s does not exist.", to.WorkerID)
		} else if w2.w.ID == t.t.WorkerID {
			return nil, backend.Errorf(backend.EInvalid, "The task is already with worker %s.", to.WorkerID)
		} else if !w2.w.Available || !w2.hasRoom(t.t.Channel) {
			return nil, backend.Errorf(backend.EConflict, "Worker %s cannot take a %s task now.", w2.w.Name, t.t.Channel)
		}
	} else if e.queues[to.QueueID] == nil {
		return nil, backend.Errorf(backend.ENotFound, "Queue %s does not exist.", to.QueueID)
	}
	old := e.release(t, backend.ReservationTransferred)
	e.reject(t, old)
	if w2 != nil {
		e.unreject(t, w2.w.ID)
		e.offer(t, w2, true)
	} else {
		e.detach(t)
		t.t.WorkflowID, t.t.Filter, t.t.FilterIndex, t.t.TargetIndex = "", "", 0, 0
		t.t.QueueID, t.target, t.t.TargetExpiresAt = to.QueueID, nil, time.Time{}
		t.t.WorkerID = ""
		t.t.State = backend.TaskPending
		e.forgive(t)
		e.attach(t)
		e.touchTask(t)
		e.waiting = append(e.waiting, t)
	}
	if err := e.finish(ctx, false); err != nil {
		return nil, err
	}
	return cloneTask(t.t), nil
}

// Task returns a task, open or ended. Returns ENotFound.
func (e *Engine) Task(ctx context.Context, id string) (*backend.Task, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	if t := e.tasks[id]; t != nil {
		defer e.mu.Unlock()
		return cloneTask(t.t), nil
	}
	e.mu.Unlock()
	return e.store.FindTask(ctx, id)
}

// Tasks returns the open tasks matching f, highest priority and oldest
// first.
func (e *Engine) Tasks(ctx context.Context, f backend.TaskFilter) ([]*backend.Task, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	var ts []*task
	for _, t := range e.tasks {
		if (f.QueueID == "" || t.t.QueueID == f.QueueID) && (f.WorkerID == "" || t.t.WorkerID == f.WorkerID) &&
			(f.State == "" || t.t.State == f.State) && (f.ConversationID == "" || t.t.ConversationID == f.ConversationID) {
			ts = append(ts, t)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return globalBefore(ts[i], ts[j]) })
	out := make([]*backend.Task, len(ts))
	for i, t := range ts {
		out[i] = cloneTask(t.t)
	}
	return out, nil
}

// Reservations returns the active reservations (pending, accepted,
// wrapping) of a worker, or of everyone when workerID is empty, oldest
// first.
func (e *Engine) Reservations(ctx context.Context, workerID string) ([]*backend.Reservation, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	all := e.res
	if workerID != "" {
		w := e.workers[workerID]
		if w == nil {
			return nil, backend.Errorf(backend.ENotFound, "Worker %s does not exist.", workerID)
		}
		all = w.res
	}
	out := make([]*backend.Reservation, 0, len(all))
	for _, r := range all {
		out = append(out, cloneReservation(r))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
