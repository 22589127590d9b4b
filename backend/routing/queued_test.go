package routing_test

import (
	"context"
	"sync"
	"testing"

	"switchboard/backend"
	"switchboard/backend/routing"
)

var _ routing.QueuedStore = (*queuedStore)(nil)

// queuedStore is a memStore whose changes are written in the order they
// were queued; while the test holds it, they wait, as the SQLite store's
// queued changes wait for their batch's commit.
type queuedStore struct {
	*memStore
	queued chan *backend.RoutingChange // each change queued while held

	mu   sync.Mutex
	gate chan struct{} // while not nil, changes wait until it is closed
	last chan struct{} // closed once the last queued change was written
}

// hold makes the changes queued from now on wait for release.
func (s *queuedStore) hold() {
	s.mu.Lock()
	s.gate = make(chan struct{})
	s.mu.Unlock()
}

func (s *queuedStore) release() {
	s.mu.Lock()
	close(s.gate)
	s.gate = nil
	s.mu.Unlock()
}

func (s *queuedStore) QueueRouting(ctx context.Context, c *backend.RoutingChange) func() error {
	s.mu.Lock()
	prev, done, gate := s.last, make(chan struct{}), s.gate
	s.last = done
	s.mu.Unlock()
	var err error
	go func() {
		if gate != nil {
			<-gate
		}
		if prev != nil {
			<-prev
		}
		err = s.memStore.SaveRouting(ctx, c)
		close(done)
	}()
	if gate != nil {
		s.queued <- c
	}
	return func() error { <-done; return err }
}

// With a store that queues its writes, the router decides the next
// operation while the last one is being made durable, answers neither
// before its own change is written, and after a refused change reloads a
// state that holds the later change built on it.
func TestQueuedStore_DecidesWhileEarlierChangesCommit(t *testing.T) {
	h := MustStart(t, routing.Options{})
	h.queue(backend.Queue{ID: "q1", Name: "Support"})
	h.workflow(backend.Workflow{ID: "wf", Name: "Default", Default: []backend.WorkflowTarget{{QueueID: "q1"}}})
	h.e.Close()
	qs := &queuedStore{memStore: h.store, queued: make(chan *backend.RoutingChange, 16)}
	h.store.fail = func(c *backend.RoutingChange) error {
		for _, task := range c.Tasks {
			if task.Attributes["refuse"] == true {
				return backend.Errorf(backend.EConflict, "refused by the test")
			}
		}
		return nil
	}
	e := routing.New(qs, h.opts)
	routing.EnableDebug(e)
	if err := e.Start(h.ctx); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	qs.hold()

	type answer struct {
		task *backend.Task
		err  error
	}
	first, second := make(chan answer, 1), make(chan answer, 1)
	create := func(out chan<- answer, attrs map[string]any) {
		task, err := e.CreateTask(h.ctx, backend.TaskInput{Channel: backend.ChannelChat, Attributes: attrs})
		out <- answer{task, err}
	}
	go create(first, map[string]any{"refuse": true})
	<-qs.queued // the first decision waits for its write
	go create(second, map[string]any{"n": 2})
	<-qs.queued // the second was decided meanwhile: the router was not held
	select {
	case <-first:
		t.Fatal("the first caller was answered before its change was written")
	case <-second:
		t.Fatal("the second caller was answered before its change was written")
	default:
	}
	qs.release()
	if a := <-first; backend.ErrorCode(a.err) != backend.EConflict {
		t.Fatalf("the refused change answered %v, want conflict", a.err)
	}
	b := <-second
	if b.err != nil {
		t.Fatal(b.err)
	}
	open, err := e.Tasks(h.ctx, backend.TaskFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].ID != b.task.ID {
		t.Fatalf("after the refusal the router holds %d tasks, want only %s", len(open), b.task.ID)
	}
	if err := e.CheckInvariants(true); err != nil {
		t.Fatal(err)
	}
}
