package routing

import (
	"context"
	"sort"

	"switchboard/backend"
)

// load replaces the in-memory state with the store's and re-arms the
// deadlines. Entities that no longer compile are kept but never match.
func (e *Engine) load(ctx context.Context) error {
	snap, err := e.store.LoadRouting(ctx)
	if err != nil {
		return err
	}
	e.reset()
	for _, a := range snap.Activities {
		e.activities[a.Name] = a
	}
	for _, q := range snap.Queues {
		e.addQueue(q, snap.QueueCounters[q.ID])
	}
	for _, w := range snap.Workers {
		e.addWorker(w, snap.WorkerCounters[w.ID])
	}
	for _, wf := range snap.Workflows {
		cw, err := compileWorkflow(wf)
		if err != nil {
			e.log.Warn("routing: stored workflow does not compile", "workflow", wf.ID, "err", err)
			cw = &workflow{wf: wf}
		}
		e.workflows[wf.ID] = cw
	}
	for _, bt := range snap.Tasks {
		t := &task{t: bt, rejected: map[string]bool{}}
		for _, id := range bt.RejectedBy {
			t.rejected[id] = true
		}
		t.target = e.targetProgram(bt)
		if e.queues[bt.QueueID] == nil {
			e.log.Warn("routing: task in unknown queue", "task", bt.ID, "queue", bt.QueueID)
			e.addQueue(&backend.Queue{ID: bt.QueueID, Name: bt.QueueID, CreatedAt: bt.CreatedAt, UpdatedAt: bt.CreatedAt}, backend.RoutingCounters{})
		}
		e.tasks[bt.ID] = t
		e.indexTask(t)
	}
	for _, r := range snap.Reservations {
		t, w := e.tasks[r.TaskID], e.workers[r.WorkerID]
		if t == nil || w == nil || t.res != nil {
			e.log.Warn("routing: dangling reservation", "reservation", r.ID)
			continue
		}
		t.res = r
		e.res[r.ID] = r
		w.res[r.ID] = r
		w.load[r.Channel]++
		if r.State == backend.ReservationPending {
			e.schedule(r.ExpiresAt, dlReservation, r.ID)
		}
	}
	ids := make([]string, 0, len(e.tasks))
	for id := range e.tasks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		t := e.tasks[id]
		if t.res == nil && t.t.State != backend.TaskPending {
			// An offer or assignment lost its reservation: wait again.
			t.t.State = backend.TaskPending
			t.t.WorkerID = ""
			e.touchTask(t)
		}
		e.attach(t)
		if !t.t.TargetExpiresAt.IsZero() {
			e.schedule(t.t.TargetExpiresAt, dlEscalation, t.t.ID)
		}
		if !t.t.RetryAt.IsZero() {
			e.schedule(t.t.RetryAt, dlReoffer, t.t.ID)
		}
		if !t.t.WrapUpEndsAt.IsZero() {
			e.schedule(t.t.WrapUpEndsAt, dlWrapUp, t.t.ID)
		}
	}
	return nil
}

// addQueue indexes a queue and judges every worker against it.
func (e *Engine) addQueue(bq *backend.Queue, c backend.RoutingCounters) *queue {
	p, err := compileExpr("target expression", bq.TargetWorkers)
	if err != nil {
		e.log.Warn("routing: stored queue expression does not compile", "queue", bq.ID, "err", err)
		p = &program{src: bq.TargetWorkers, prog: nil}
		p = neverProgram(p)
	}
	q := &queue{q: bq, target: p, byState: map[string]int{}, pendingOn: map[string]int{}, counters: c}
	e.queues[bq.ID] = q
	i := sort.Search(len(e.queueList), func(i int) bool { return e.queueList[i].q.ID >= bq.ID })
	e.queueList = append(e.queueList, nil)
	copy(e.queueList[i+1:], e.queueList[i:])
	e.queueList[i] = q
	for _, w := range e.workers {
		e.judge(w, q)
	}
	return q
}

// addWorker indexes a worker.
func (e *Engine) addWorker(bw *backend.Worker, c backend.RoutingCounters) *worker {
	if bw.Attributes == nil {
		bw.Attributes = map[string]any{}
	}
	w := &worker{w: bw, load: map[string]int{}, res: map[string]*backend.Reservation{}, elig: map[*queue]bool{}, inRoomy: map[string]bool{}, counters: c}
	e.workers[bw.ID] = w
	if a := e.activities[bw.Activity]; a != nil {
		bw.Available = a.Available
	}
	if bw.Available {
		e.availInsert(w)
		e.syncRoom(w)
	}
	for _, q := range e.queueList {
		e.judge(w, q)
	}
	return w
}

// judge recomputes whether w matches q's target with no task attributes,
// keeping q's worker counts.
func (e *Engine) judge(w *worker, q *queue) {
	old := w.elig[q]
	ok := e.ev.run(q.target, w.w.Attributes, nil)
	if ok == old {
		return
	}
	w.elig[q] = ok
	q.setMember(w, ok)
	if w.w.UserID != "" {
		e.touchQueueAccess(q)
	}
	d := 1
	if !ok {
		d = -1
	}
	q.eligible += d
	if w.w.Available {
		q.available += d
	}
	e.touchQueueStats(q)
}

// neverProgram turns p into one that never matches.
func neverProgram(p *program) *program {
	never, _ := compileExpr("expression", "false")
	never.src = p.src
	return never
}

// targetProgram returns the expression of the workflow target t stands at.
func (e *Engine) targetProgram(t *backend.Task) *program {
	wf := e.workflows[t.WorkflowID]
	if wf == nil || t.WorkflowID == "" {
		return nil
	}
	fi := t.FilterIndex
	if fi < 0 {
		fi = len(wf.filters)
	}
	if fi >= len(wf.targets) || t.TargetIndex >= len(wf.targets[fi]) {
		return nil
	}
	return wf.targets[fi][t.TargetIndex]
}
