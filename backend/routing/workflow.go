package routing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"switchboard/backend"
)

// compileWorkflow checks wf's shape and compiles its expressions once.
func compileWorkflow(wf *backend.Workflow) (*workflow, error) {
	if strings.TrimSpace(wf.Name) == "" {
		return nil, backend.Errorf(backend.EInvalid, "A workflow needs a name.")
	}
	if len(wf.Default) == 0 {
		return nil, backend.Errorf(backend.EInvalid, "Workflow %q needs at least one default target.", wf.Name)
	}
	if wf.ReservationTimeoutSeconds < 0 {
		return nil, backend.Errorf(backend.EInvalid, "The reservation timeout of workflow %q cannot be negative.", wf.Name)
	}
	cw := &workflow{wf: wf}
	for i, f := range wf.Filters {
		name := f.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		p, err := compileExpr(fmt.Sprintf("expression of filter %s", name), f.Expression)
		if err != nil {
			return nil, err
		}
		if len(f.Targets) == 0 {
			return nil, backend.Errorf(backend.EInvalid, "Filter %s of workflow %q has no targets.", name, wf.Name)
		}
		ts, err := compileTargets(name, f.Targets)
		if err != nil {
			return nil, err
		}
		cw.filters = append(cw.filters, p)
		cw.targets = append(cw.targets, ts)
	}
	ts, err := compileTargets("default", wf.Default)
	if err != nil {
		return nil, err
	}
	cw.targets = append(cw.targets, ts)
	return cw, nil
}

func compileTargets(filter string, targets []backend.WorkflowTarget) ([]*program, error) {
	var out []*program
	for i, tg := range targets {
		if tg.QueueID == "" {
			return nil, backend.Errorf(backend.EInvalid, "Target %d of filter %s names no queue.", i+1, filter)
		}
		if tg.TimeoutSeconds < 0 {
			return nil, backend.Errorf(backend.EInvalid, "Target %d of filter %s has a negative timeout.", i+1, filter)
		}
		p, err := compileExpr(fmt.Sprintf("expression of target %d of filter %s", i+1, filter), tg.Expression)
		if err != nil {
			return nil, err
		}
		if p.prog == nil {
			p = nil
		}
		out = append(out, p)
	}
	return out, nil
}

// filterTargets returns the targets of filter fi (-1: the default).
func (wf *workflow) filterTargets(fi int) []backend.WorkflowTarget {
	if fi < 0 || fi >= len(wf.wf.Filters) {
		return wf.wf.Default
	}
	return wf.wf.Filters[fi].Targets
}

func (wf *workflow) targetProgram(fi, ti int) *program {
	if fi < 0 || fi >= len(wf.filters) {
		fi = len(wf.filters)
	}
	if fi >= len(wf.targets) || ti >= len(wf.targets[fi]) {
		return nil
	}
	return wf.targets[fi][ti]
}

// matchFilter returns the index of the first filter t matches, or -1.
func (e *Engine) matchFilter(wf *workflow, t *task) int {
	for i, p := range wf.filters {
		if e.ev.run(p, nil, t.t.Attributes) {
			return i
		}
	}
	return -1
}

// placeAt moves t (detached) to target ti of filter fi, passing over
// targets that ask to be skipped when nobody is available there and
// falling through to the default targets when a filter runs out. The last
// default target is never skipped.
func (e *Engine) placeAt(t *task, wf *workflow, fi, ti int) {
	for {
		targets := wf.filterTargets(fi)
		if ti >= len(targets) {
			if fi >= 0 {
				fi, ti = -1, 0
				continue
			}
			ti = len(targets) - 1
		}
		tg := targets[ti]
		last := fi < 0 && ti == len(targets)-1
		t.t.FilterIndex, t.t.TargetIndex = fi, ti
		t.t.Filter = "default"
		if fi >= 0 {
			t.t.Filter = wf.wf.Filters[fi].Name
		}
		t.t.QueueID = tg.QueueID
		t.target = wf.targetProgram(fi, ti)
		if tg.Priority != nil {
			t.t.Priority = *tg.Priority
		}
		t.t.TargetExpiresAt = time.Time{}
		if tg.SkipIfNoWorkers && !last && !e.anyoneCanTake(t) {
			ti++
			continue
		}
		if tg.TimeoutSeconds > 0 && !last {
			t.t.TargetExpiresAt = e.now().Add(time.Duration(tg.TimeoutSeconds) * time.Second)
			e.schedule(t.t.TargetExpiresAt, dlEscalation, t.t.ID)
		}
		return
	}
}

// anyoneCanTake reports whether an available worker could take t now.
func (e *Engine) anyoneCanTake(t *task) bool {
	if e.queues[t.t.QueueID] == nil {
		return false
	}
	found := false
	e.roomFor(t.t.Channel).each(func(w *worker) bool {
		found = e.canTake(w, t)
		return !found
	})
	return found
}

// escalate moves a waiting t to its workflow's next target.
func (e *Engine) escalate(t *task) {
	wf := e.workflows[t.t.WorkflowID]
	if wf == nil || t.t.WorkflowID == "" {
		t.t.TargetExpiresAt = time.Time{}
		e.touchTask(t)
		return
	}
	fi, ti := t.t.FilterIndex, t.t.TargetIndex+1
	if fi >= len(wf.wf.Filters) {
		fi = -1
	}
	e.detach(t)
	if fi < 0 && ti >= len(wf.wf.Default) {
		t.t.TargetExpiresAt = time.Time{} // nowhere left to go: wait here
	} else {
		e.placeAt(t, wf, fi, ti)
	}
	e.attach(t)
	e.touchTask(t)
}

// UpsertWorkflow creates a workflow (empty ID) or replaces one. Tasks
// already routed keep their place and follow the new targets from there.
// Returns EInvalid for a bad expression, a missing queue or no default.
func (e *Engine) UpsertWorkflow(ctx context.Context, in *backend.Workflow) (*backend.Workflow, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	wf := cloneWorkflow(in)
	cw, err := compileWorkflow(wf)
	if err != nil {
		return nil, err
	}
	for _, f := range append(append([]backend.WorkflowFilter{}, wf.Filters...), backend.WorkflowFilter{Name: "default", Targets: wf.Default}) {
		for _, tg := range f.Targets {
			if e.queues[tg.QueueID] == nil {
				return nil, backend.Errorf(backend.EInvalid, "Filter %s targets queue %s, which does not exist.", f.Name, tg.QueueID)
			}
		}
	}
	now := e.now()
	if wf.ID == "" {
		wf.ID = e.opts.NewID("wf")
	}
	wf.CreatedAt, wf.UpdatedAt = now, now
	if old := e.workflows[wf.ID]; old != nil {
		wf.CreatedAt = old.wf.CreatedAt
	}
	e.workflows[wf.ID] = cw
	for _, t := range e.tasks {
		if t.t.WorkflowID == wf.ID {
			t.target = cw.targetProgram(t.t.FilterIndex, t.t.TargetIndex)
		}
	}
	e.touchWorkflow(wf)
	if err := e.finish(ctx, false); err != nil {
		return nil, err
	}
	return cloneWorkflow(wf), nil
}

// Workflows returns every workflow, by ID.
func (e *Engine) Workflows(ctx context.Context) ([]*backend.Workflow, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	var out []*backend.Workflow
	for _, wf := range e.workflows {
		out = append(out, cloneWorkflow(wf.wf))
	}
	sortByID(out, func(w *backend.Workflow) string { return w.ID })
	return out, nil
}
