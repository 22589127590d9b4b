package routing

import (
	"maps"
	"slices"
	"sort"

	"switchboard/backend"
)

// The engine hands out copies, so callers never share its state.

func cloneTask(t *backend.Task) *backend.Task {
	c := *t
	c.Attributes = maps.Clone(t.Attributes)
	c.RejectedBy = slices.Clone(t.RejectedBy)
	return &c
}

func cloneWorker(w *backend.Worker) *backend.Worker {
	c := *w
	c.Attributes = maps.Clone(w.Attributes)
	c.Capacity = maps.Clone(w.Capacity)
	return &c
}

func cloneReservation(r *backend.Reservation) *backend.Reservation {
	c := *r
	return &c
}

func cloneWorkflow(wf *backend.Workflow) *backend.Workflow {
	c := *wf
	c.Filters = make([]backend.WorkflowFilter, len(wf.Filters))
	for i, f := range wf.Filters {
		f.Targets = cloneTargets(f.Targets)
		c.Filters[i] = f
	}
	c.Default = cloneTargets(wf.Default)
	return &c
}

func cloneTargets(ts []backend.WorkflowTarget) []backend.WorkflowTarget {
	out := make([]backend.WorkflowTarget, len(ts))
	for i, t := range ts {
		if t.Priority != nil {
			p := *t.Priority
			t.Priority = &p
		}
		out[i] = t
	}
	return out
}

// snapshot copies the engine's objects a change points to, so it can be
// written while the engine changes them further.
func snapshot(c *backend.RoutingChange) *backend.RoutingChange {
	out := *c
	out.Activities = cloneAll(c.Activities, func(a *backend.Activity) *backend.Activity { v := *a; return &v })
	out.Workers = cloneAll(c.Workers, cloneWorker)
	out.Queues = cloneAll(c.Queues, func(q *backend.Queue) *backend.Queue { v := *q; return &v })
	out.Workflows = cloneAll(c.Workflows, cloneWorkflow)
	out.Tasks = cloneAll(c.Tasks, cloneTask)
	out.Reservations = cloneAll(c.Reservations, cloneReservation)
	return &out
}

func cloneAll[T any](s []*T, clone func(*T) *T) []*T {
	if s == nil {
		return nil
	}
	out := make([]*T, len(s))
	for i, v := range s {
		out[i] = clone(v)
	}
	return out
}

func sortByID[T any](s []T, id func(T) string) {
	sort.Slice(s, func(i, j int) bool { return id(s[i]) < id(s[j]) })
}
