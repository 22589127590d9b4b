package routing

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"switchboard/backend"
)

// UpsertWorker creates a worker (empty or unknown ID) or replaces an
// existing one's name, user, attributes and capacity, and its activity
// when one is given. A new worker starts Offline unless it says otherwise.
// Returns EInvalid for a missing name, a negative capacity or an unknown
// activity, and EConflict when the user already has another worker.
func (e *Engine) UpsertWorker(ctx context.Context, in *backend.Worker) (*backend.Worker, error) {
	if strings.TrimSpace(in.Name) == "" {
		return nil, backend.Errorf(backend.EInvalid, "A worker needs a name.")
	}
	attrs, err := normalizeAttrs("worker", in.Attributes)
	if err != nil {
		return nil, err
	}
	capacity := map[string]int{}
	for ch, n := range in.Capacity {
		if n < 0 {
			return nil, backend.Errorf(backend.EInvalid, "The %s capacity of %s cannot be negative.", ch, in.Name)
		}
		capacity[ch] = n
	}
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	if in.Activity != "" && e.activities[in.Activity] == nil {
		return nil, backend.Errorf(backend.EInvalid, "Activity %q does not exist.", in.Activity)
	}
	if in.UserID != "" {
		for _, w := range e.workers {
			if w.w.UserID == in.UserID && w.w.ID != in.ID {
				return nil, backend.Errorf(backend.EConflict, "User %s already works as %s.", in.UserID, w.w.Name)
			}
		}
	}
	now := e.now()
	w := e.workers[in.ID]
	if w == nil {
		act := in.Activity
		if act == "" {
			act = backend.ActivityOffline
		}
		id := in.ID
		if id == "" {
			id = e.opts.NewID("wk")
		}
		w = e.addWorker(&backend.Worker{
			ID: id, UserID: in.UserID, Name: in.Name, Attributes: attrs, Activity: act, Capacity: capacity,
			IdleSince: now, ActivityChangedAt: now, CreatedAt: now, UpdatedAt: now,
		}, backend.RoutingCounters{})
		e.touchWorker(w)
		e.touchWorkerStats(w)
		e.freed = append(e.freed, w)
	} else {
		if w.w.UserID != in.UserID {
			e.touchWorkerAccess(w) // the same work, another user
		}
		w.w.Name, w.w.UserID, w.w.Capacity, w.w.UpdatedAt = in.Name, in.UserID, capacity, now
		w.w.Attributes = attrs
		w.version++
		e.syncRoom(w)
		for _, q := range e.queueList {
			e.judge(w, q)
		}
		e.touchWorker(w)
		if in.Activity != "" && in.Activity != w.w.Activity {
			e.changeActivity(w, in.Activity)
		}
		e.freed = append(e.freed, w)
	}
	if err := e.finish(ctx, false); err != nil {
		return nil, err
	}
	return cloneWorker(w.w), nil
}

// SetWorkerActivity moves a worker to an activity. Going unavailable
// rescinds the worker's pending offers (their tasks are offered to others);
// becoming available offers waiting work. Returns ENotFound for an unknown
// worker and EInvalid for an unknown activity.
func (e *Engine) SetWorkerActivity(ctx context.Context, workerID, activity string) (*backend.Worker, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	w := e.workers[workerID]
	if w == nil {
		return nil, backend.Errorf(backend.ENotFound, "Worker %s does not exist.", workerID)
	}
	if e.activities[activity] == nil {
		return nil, backend.Errorf(backend.EInvalid, "Activity %q does not exist.", activity)
	}
	if activity != w.w.Activity {
		e.changeActivity(w, activity)
	}
	if err := e.finish(ctx, false); err != nil {
		return nil, err
	}
	return cloneWorker(w.w), nil
}

// changeActivity moves w to the activity name, which exists.
func (e *Engine) changeActivity(w *worker, name string) {
	now := e.now()
	w.w.Activity, w.w.ActivityChangedAt, w.w.UpdatedAt = name, now, now
	e.touchWorker(w)
	e.applyAvailability(w, e.activities[name].Available)
}

// applyAvailability makes w available or not, rescinding its pending
// offers or offering it work.
func (e *Engine) applyAvailability(w *worker, av bool) {
	if av == w.w.Available {
		return
	}
	e.setAvailable(w, av)
	if av {
		e.freed = append(e.freed, w)
		return
	}
	var rescinded []*task
	for _, r := range w.res {
		if r.State == backend.ReservationPending {
			rescinded = append(rescinded, e.tasks[r.TaskID])
		}
	}
	sort.Slice(rescinded, func(i, j int) bool { return globalBefore(rescinded[i], rescinded[j]) })
	for _, t := range rescinded {
		e.release(t, backend.ReservationRescinded)
		w.counters.Canceled++
		e.requeue(t)
	}
}

// UpsertActivity creates an activity or changes whether it is available,
// applying that to every worker in it. Returns EInvalid for a missing name.
func (e *Engine) UpsertActivity(ctx context.Context, in backend.Activity) (*backend.Activity, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, backend.Errorf(backend.EInvalid, "An activity needs a name.")
	}
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	now := e.now()
	a := e.activities[name]
	if a == nil {
		a = &backend.Activity{Name: name, CreatedAt: now}
		e.activities[name] = a
	}
	a.Available, a.UpdatedAt = in.Available, now
	e.touchActivity(a)
	var ws []*worker
	for _, w := range e.workers {
		if w.w.Activity == name && w.w.Available != a.Available {
			ws = append(ws, w)
		}
	}
	sort.Slice(ws, func(i, j int) bool { return workerBefore(ws[i], ws[j]) })
	for _, w := range ws {
		e.applyAvailability(w, a.Available)
	}
	if err := e.finish(ctx, false); err != nil {
		return nil, err
	}
	c := *a
	return &c, nil
}

// Activities returns every activity, by name.
func (e *Engine) Activities(ctx context.Context) ([]*backend.Activity, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	var out []*backend.Activity
	for _, a := range e.activities {
		c := *a
		out = append(out, &c)
	}
	sortByID(out, func(a *backend.Activity) string { return a.Name })
	return out, nil
}

// Worker returns one worker. Returns ENotFound.
func (e *Engine) Worker(ctx context.Context, id string) (*backend.Worker, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	if w := e.workers[id]; w != nil {
		return cloneWorker(w.w), nil
	}
	return nil, backend.Errorf(backend.ENotFound, "Worker %s does not exist.", id)
}

// WorkerByUserID returns the worker a user signs in as. Returns ENotFound.
func (e *Engine) WorkerByUserID(ctx context.Context, userID string) (*backend.Worker, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	for _, w := range e.workers {
		if w.w.UserID == userID && userID != "" {
			return cloneWorker(w.w), nil
		}
	}
	return nil, backend.Errorf(backend.ENotFound, "User %s is not a worker.", userID)
}

// Workers returns every worker, by ID.
func (e *Engine) Workers(ctx context.Context) ([]*backend.Worker, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	out := make([]*backend.Worker, 0, len(e.workers))
	for _, w := range e.workers {
		out = append(out, cloneWorker(w.w))
	}
	sortByID(out, func(w *backend.Worker) string { return w.ID })
	return out, nil
}

// normalizeAttrs copies attributes through JSON, so values look the same
// before and after a restart (numbers are float64). Returns EInvalid when
// they cannot be encoded.
func normalizeAttrs(kind string, in map[string]any) (map[string]any, error) {
	out := map[string]any{}
	if len(in) == 0 {
		return out, nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The %s attributes are not valid JSON values: %v", kind, err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The %s attributes are not a JSON object.", kind)
	}
	return out, nil
}
