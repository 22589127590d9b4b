package routing

import (
	"context"
	"maps"
	"sort"

	"switchboard/backend"
)

// Live returns queues, workers, queue figures, who serves each queue and
// what each worker holds, all at one instant, for the supervisor's live
// view.
func (e *Engine) Live(ctx context.Context) (*backend.RoutingLive, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	now := e.now()
	l := &backend.RoutingLive{At: now, Stats: map[string]*backend.QueueStats{}, Members: map[string][]string{},
		Load: map[string]map[string]int{}}
	for _, q := range e.queueList {
		c := *q.q
		l.Queues = append(l.Queues, &c)
		l.Stats[c.ID] = q.stats(now)
		ids := make([]string, 0, len(q.members))
		for w := range q.members {
			ids = append(ids, w.w.ID)
		}
		sort.Strings(ids)
		l.Members[c.ID] = ids
	}
	for _, w := range e.workers {
		l.Workers = append(l.Workers, cloneWorker(w.w))
		l.Load[w.w.ID] = maps.Clone(w.load)
	}
	sortByID(l.Workers, func(w *backend.Worker) string { return w.ID })
	return l, nil
}
