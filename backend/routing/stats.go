package routing

import (
	"context"
	"time"

	"switchboard/backend"
)

// QueueStats returns a queue's live figures and cumulative counters.
// Returns ENotFound.
func (e *Engine) QueueStats(ctx context.Context, queueID string) (*backend.QueueStats, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	q := e.queues[queueID]
	if q == nil {
		return nil, backend.Errorf(backend.ENotFound, "Queue %s does not exist.", queueID)
	}
	return q.stats(e.now()), nil
}

// WorkerStats returns a worker's cumulative counters and current load.
// Returns ENotFound.
func (e *Engine) WorkerStats(ctx context.Context, workerID string) (*backend.WorkerStats, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	w := e.workers[workerID]
	if w == nil {
		return nil, backend.Errorf(backend.ENotFound, "Worker %s does not exist.", workerID)
	}
	return w.stats(), nil
}

func (q *queue) stats(now time.Time) *backend.QueueStats {
	s := &backend.QueueStats{
		QueueID: q.q.ID, Tasks: map[string]int{}, EligibleWorkers: q.eligible, AvailableWorkers: q.available,
		RoutingCounters: q.counters, SLASeconds: int(q.q.SLA() / time.Second),
	}
	for _, st := range []string{backend.TaskPending, backend.TaskReserved, backend.TaskAssigned, backend.TaskWrapping} {
		s.Tasks[st] = q.byState[st]
	}
	var oldest time.Time
	for _, t := range q.pending {
		if oldest.IsZero() || t.t.CreatedAt.Before(oldest) {
			oldest = t.t.CreatedAt
		}
	}
	if !oldest.IsZero() && now.After(oldest) {
		s.LongestWaitSeconds = now.Sub(oldest).Seconds()
	}
	c := q.counters
	if c.Answered > 0 {
		s.AvgWaitSeconds = float64(c.WaitMillis) / float64(c.Answered) / 1000
	}
	if c.Completed > 0 {
		s.AvgHandleSeconds = float64(c.HandleMillis) / float64(c.Completed) / 1000
	}
	if n := c.Answered + c.Canceled; n > 0 {
		s.SLAPercent = 100 * float64(c.WithinSLA) / float64(n)
	}
	return s
}

func (w *worker) stats() *backend.WorkerStats {
	s := &backend.WorkerStats{WorkerID: w.w.ID, RoutingCounters: w.counters, Load: map[string]int{}}
	for ch, n := range w.load {
		s.Load[ch] = n
	}
	if w.counters.Completed > 0 {
		s.AvgHandleSeconds = float64(w.counters.HandleMillis) / float64(w.counters.Completed) / 1000
	}
	return s
}
