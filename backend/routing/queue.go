package routing

import (
	"context"
	"strings"

	"switchboard/backend"
)

// UpsertQueue creates a queue (empty or unknown ID) or replaces one; its
// target expression is compiled once here. Waiting tasks are offered again
// under the new rules. Returns EInvalid for a missing name, a negative SLA
// or a bad expression (with expr's message) and EConflict for a taken name.
func (e *Engine) UpsertQueue(ctx context.Context, in *backend.Queue) (*backend.Queue, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, backend.Errorf(backend.EInvalid, "A queue needs a name.")
	}
	if in.SLASeconds < 0 {
		return nil, backend.Errorf(backend.EInvalid, "The SLA of queue %s cannot be negative.", name)
	}
	if in.AlertWaitSeconds < 0 || in.AlertWaiting < 0 {
		return nil, backend.Errorf(backend.EInvalid, "The alert thresholds of queue %s cannot be negative.", name)
	}
	p, err := compileExpr("target expression of queue "+name, in.TargetWorkers)
	if err != nil {
		return nil, err
	}
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	for _, q := range e.queueList {
		if strings.EqualFold(q.q.Name, name) && q.q.ID != in.ID {
			return nil, backend.Errorf(backend.EConflict, "A queue named %s already exists.", q.q.Name)
		}
	}
	now := e.now()
	bq := *in
	bq.Name, bq.TargetWorkers = name, p.src
	bq.CreatedAt, bq.UpdatedAt = now, now
	q := e.queues[in.ID]
	if q == nil {
		if bq.ID == "" {
			bq.ID = e.opts.NewID("q")
		}
		q = e.addQueue(&bq, backend.RoutingCounters{})
	} else {
		bq.CreatedAt = q.q.CreatedAt
		lifo := q.q.LIFO
		q.q, q.target = &bq, p
		for _, w := range e.workers {
			e.judge(w, q)
		}
		if lifo != bq.LIFO {
			q.resort()
		}
	}
	e.touchQueue(q)
	e.touchQueueStats(q)
	e.waiting = append(e.waiting, q.pending...)
	if err := e.finish(ctx, false); err != nil {
		return nil, err
	}
	c := *q.q
	return &c, nil
}

// Queues returns every queue, by ID.
func (e *Engine) Queues(ctx context.Context) ([]*backend.Queue, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	out := make([]*backend.Queue, 0, len(e.queueList))
	for _, q := range e.queueList {
		c := *q.q
		out = append(out, &c)
	}
	return out, nil
}
