package routing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"switchboard/backend"
	"switchboard/backend/routing"
)

var _ routing.Store = (*memStore)(nil)

// memStore is an in-memory routing.Store. It copies everything through
// JSON (as a real store would), enforces one active reservation per task
// like the SQL index does, and can be told to fail.
type memStore struct {
	mu           sync.Mutex
	activities   map[string]*backend.Activity
	workers      map[string]*backend.Worker
	queues       map[string]*backend.Queue
	workflows    map[string]*backend.Workflow
	tasks        map[string]*backend.Task
	reservations map[string]*backend.Reservation
	qc, wc       map[string]backend.RoutingCounters
	active       map[string]string // task → its active reservation
	events       map[string]int
	missed       []*backend.MissedOffer
	saves        int
	// fail, when set, may refuse a change before it is applied.
	fail func(c *backend.RoutingChange) error
}

func newMemStore() *memStore {
	return &memStore{
		activities: map[string]*backend.Activity{}, workers: map[string]*backend.Worker{}, queues: map[string]*backend.Queue{},
		workflows: map[string]*backend.Workflow{}, tasks: map[string]*backend.Task{}, reservations: map[string]*backend.Reservation{},
		qc: map[string]backend.RoutingCounters{}, wc: map[string]backend.RoutingCounters{}, events: map[string]int{}, active: map[string]string{},
	}
}

func copyJSON[T any](v T) T {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func (s *memStore) LoadRouting(ctx context.Context) (*backend.RoutingSnapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := &backend.RoutingSnapshot{QueueCounters: map[string]backend.RoutingCounters{}, WorkerCounters: map[string]backend.RoutingCounters{}}
	for _, v := range s.activities {
		snap.Activities = append(snap.Activities, copyJSON(v))
	}
	for _, v := range s.workers {
		snap.Workers = append(snap.Workers, copyJSON(v))
	}
	for _, v := range s.queues {
		snap.Queues = append(snap.Queues, copyJSON(v))
	}
	for _, v := range s.workflows {
		snap.Workflows = append(snap.Workflows, copyJSON(v))
	}
	for _, v := range s.tasks {
		if v.Open() {
			snap.Tasks = append(snap.Tasks, copyJSON(v))
		}
	}
	for _, v := range s.reservations {
		if v.Active() {
			snap.Reservations = append(snap.Reservations, copyJSON(v))
		}
	}
	for k, v := range s.qc {
		snap.QueueCounters[k] = v
	}
	for k, v := range s.wc {
		snap.WorkerCounters[k] = v
	}
	return snap, nil
}

func (s *memStore) SaveRouting(ctx context.Context, c *backend.RoutingChange) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		if err := s.fail(c); err != nil {
			return err
		}
	}
	// The partial unique index: at most one active reservation per task.
	active := map[string]string{}
	for _, r := range c.Reservations {
		if id, ok := s.active[r.TaskID]; ok {
			active[r.TaskID] = id
		}
	}
	for _, r := range c.Reservations {
		if id, ok := active[r.TaskID]; ok && id == r.ID && !r.Active() {
			delete(active, r.TaskID)
		}
	}
	for _, r := range c.Reservations {
		if !r.Active() {
			continue
		}
		if id, ok := active[r.TaskID]; ok && id != r.ID {
			return backend.Errorf(backend.EConflict, "Task %s is already reserved.", r.TaskID)
		}
		active[r.TaskID] = r.ID
	}
	for _, r := range c.Reservations {
		if id, ok := active[r.TaskID]; ok {
			s.active[r.TaskID] = id
		} else {
			delete(s.active, r.TaskID)
		}
	}
	s.saves++
	for _, v := range c.Activities {
		s.activities[v.Name] = copyJSON(v)
		s.events[backend.EventActivityUpserted]++
	}
	for _, v := range c.Workers {
		s.workers[v.ID] = copyJSON(v)
		s.events[backend.EventWorkerUpserted]++
	}
	for _, v := range c.Queues {
		s.queues[v.ID] = copyJSON(v)
		s.events[backend.EventQueueUpserted]++
	}
	for _, v := range c.Workflows {
		s.workflows[v.ID] = copyJSON(v)
		s.events[backend.EventWorkflowUpserted]++
	}
	for _, v := range c.Tasks {
		s.tasks[v.ID] = copyJSON(v)
		s.events[backend.EventTaskUpserted]++
	}
	for _, v := range c.Reservations {
		s.reservations[v.ID] = copyJSON(v)
		s.events[backend.EventReservationUpserted]++
	}
	for _, v := range c.QueueStats {
		s.qc[v.QueueID] = v.RoutingCounters
		s.events[backend.EventQueueStats]++
	}
	for _, v := range c.WorkerStats {
		s.wc[v.WorkerID] = v.RoutingCounters
		s.events[backend.EventWorkerStats]++
	}
	for _, v := range c.MissedOffers {
		s.missed = append(s.missed, copyJSON(v))
		s.events[backend.EventOfferMissed]++
	}
	return nil
}

// missedOffers returns the missed-offer events written so far.
func (s *memStore) missedOffers() []*backend.MissedOffer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*backend.MissedOffer(nil), s.missed...)
}

func (s *memStore) FindTask(ctx context.Context, id string) (*backend.Task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tasks[id]; t != nil {
		return copyJSON(t), nil
	}
	return nil, backend.Errorf(backend.ENotFound, "Task %s does not exist.", id)
}

// seqIDs returns a NewID that counts, so runs are reproducible.
func seqIDs() func(string) string {
	var mu sync.Mutex
	n := map[string]int{}
	return func(prefix string) string {
		mu.Lock()
		defer mu.Unlock()
		n[prefix]++
		return fmt.Sprintf("%s_%06d", prefix, n[prefix])
	}
}
