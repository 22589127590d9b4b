package routing

import (
	"context"
	"slices"
	"sort"

	"switchboard/backend"
)

// DeleteQueue removes a queue nothing depends on. Returns ENotFound, and
// EConflict while a workflow targets it or open tasks are in it.
func (e *Engine) DeleteQueue(ctx context.Context, id string) error {
	if err := e.begin(); err != nil {
		return err
	}
	defer e.mu.Unlock()
	q := e.queues[id]
	if q == nil {
		return backend.Errorf(backend.ENotFound, "Queue %s does not exist.", id)
	}
	if n := e.openTasks(func(t *task) bool { return t.t.QueueID == id }); n > 0 {
		return backend.Errorf(backend.EConflict, "Queue %s still has %d open tasks; wait until they are done or transfer them.", q.q.Name, n)
	}
	for _, wf := range e.sortedWorkflows() {
		if targets(wf.wf, id) {
			return backend.Errorf(backend.EConflict, "Workflow %s sends tasks to queue %s; change the workflow first.", wf.wf.Name, q.q.Name)
		}
	}
	delete(e.queues, id)
	e.queueList = slices.DeleteFunc(e.queueList, func(x *queue) bool { return x == q })
	for _, w := range e.workers {
		delete(w.elig, q)
	}
	e.dirty.deletedQueues = append(e.dirty.deletedQueues, id)
	return e.finish(ctx, false)
}

// DeleteWorkflow removes a workflow no open task follows. Returns ENotFound,
// and EConflict for the last workflow (flows hand conversations to agents
// through it) or while open tasks follow it.
func (e *Engine) DeleteWorkflow(ctx context.Context, id string) error {
	if err := e.begin(); err != nil {
		return err
	}
	defer e.mu.Unlock()
	wf := e.workflows[id]
	if wf == nil {
		return backend.Errorf(backend.ENotFound, "Workflow %s does not exist.", id)
	}
	if len(e.workflows) == 1 {
		return backend.Errorf(backend.EConflict, "Workflow %s is the only one: flows hand conversations to agents through it.", wf.wf.Name)
	}
	if n := e.openTasks(func(t *task) bool { return t.t.WorkflowID == id }); n > 0 {
		return backend.Errorf(backend.EConflict, "Workflow %s still routes %d open tasks.", wf.wf.Name, n)
	}
	delete(e.workflows, id)
	e.dirty.deletedWorkflows = append(e.dirty.deletedWorkflows, id)
	return e.finish(ctx, false)
}

// DeleteWorker removes a worker who holds no task. Returns ENotFound, and
// EConflict while the worker has an offer or a task.
func (e *Engine) DeleteWorker(ctx context.Context, id string) error {
	if err := e.begin(); err != nil {
		return err
	}
	defer e.mu.Unlock()
	w := e.workers[id]
	if w == nil {
		return backend.Errorf(backend.ENotFound, "Worker %s does not exist.", id)
	}
	if len(w.res) > 0 {
		return backend.Errorf(backend.EConflict, "%s still holds %d tasks or offers; they must end or be transferred first.", w.w.Name, len(w.res))
	}
	e.unlistRoom(w)
	if w.w.Available {
		e.availRemove(w)
	}
	for _, q := range e.queueList {
		if w.elig[q] {
			q.eligible--
			if w.w.Available {
				q.available--
			}
			q.setMember(w, false)
			if w.w.UserID != "" {
				e.touchQueueAccess(q) // its user no longer sees what waits there
			}
			e.touchQueueStats(q)
		}
	}
	delete(e.workers, id)
	e.dirty.deletedWorkers = append(e.dirty.deletedWorkers, id)
	return e.finish(ctx, false)
}

// openTasks counts the open tasks that match.
func (e *Engine) openTasks(match func(*task) bool) int {
	n := 0
	for _, t := range e.tasks {
		if match(t) {
			n++
		}
	}
	return n
}

func (e *Engine) sortedWorkflows() []*workflow {
	out := make([]*workflow, 0, len(e.workflows))
	for _, wf := range e.workflows {
		out = append(out, wf)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].wf.ID < out[j].wf.ID })
	return out
}

// targets reports whether any filter or the default of wf sends to queue.
func targets(wf *backend.Workflow, queue string) bool {
	all := slices.Clone(wf.Default)
	for _, f := range wf.Filters {
		all = append(all, f.Targets...)
	}
	return slices.ContainsFunc(all, func(t backend.WorkflowTarget) bool { return t.QueueID == queue })
}

// MatchingWorkers compiles a queue target expression and returns the
// workers it matches now (judged with no task attributes), so an admin sees
// the effect of an expression while typing it. Returns EInvalid with expr's
// message for an expression that does not compile.
func (e *Engine) MatchingWorkers(ctx context.Context, expression string) ([]*backend.Worker, error) {
	p, err := compileExpr("target expression", expression)
	if err != nil {
		return nil, err
	}
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	out := []*backend.Worker{}
	for _, w := range e.workers {
		if e.ev.run(p, w.w.Attributes, nil) {
			out = append(out, cloneWorker(w.w))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
