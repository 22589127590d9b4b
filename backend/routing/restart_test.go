package routing_test

import (
	"errors"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/routing"
)

func TestRestart_PendingOffers(t *testing.T) {
	h := MustStart(t, routing.Options{ReservationTimeout: 30 * time.Second})
	q := h.queue(backend.Queue{Name: "all"})
	h.worker("a", nil, backend.ActivityAvailable)
	h.clock.Advance(time.Second)
	h.worker("b", nil, backend.ActivityAvailable)
	kept := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
	h.clock.Advance(20 * time.Second)
	waiting := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
	assigned := h.task(backend.TaskInput{Channel: "chat", QueueID: q.ID})
	h.accept(h.offerOf(assigned.ID))
	before := h.offerOf(kept.ID)
	events := h.store.events[backend.EventReservationUpserted]

	h.restart()
	h.check()
	if r := h.offerOf(kept.ID); r == nil || r.ID != before.ID || !r.ExpiresAt.Equal(before.ExpiresAt) {
		t.Fatalf("offer after restart %+v, before %+v", r, before)
	}
	if h.store.events[backend.EventReservationUpserted] <= events {
		t.Fatal("pending offers were not published again")
	}
	if got := h.get(assigned.ID); got.State != backend.TaskAssigned {
		t.Fatalf("assigned task is %s after restart", got.State)
	}
	// The kept offer still expires on time and moves on.
	h.clock.Advance(10 * time.Second)
	h.check()
	// b holds the other call, and a let this one time out: it waits.
	if got := h.get(kept.ID); got.State != backend.TaskPending || len(got.RejectedBy) != 1 || got.RejectedBy[0] != "a" {
		t.Fatalf("kept task %s, rejected by %v", got.State, got.RejectedBy)
	}
	if offeredTo(h, waiting.ID) != "b" {
		t.Fatal("the other call lost its offer")
	}
}

func TestRestart_ExpiredWhileDown(t *testing.T) {
	h := MustStart(t, routing.Options{ReservationTimeout: 30 * time.Second})
	q := h.queue(backend.Queue{Name: "all"})
	h.worker("a", nil, backend.ActivityAvailable)
	h.clock.Advance(time.Second)
	h.worker("b", nil, backend.ActivityAvailable)
	task := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
	h.e.Close()
	h.clock.Advance(time.Minute) // down longer than the timeout
	h.restart()
	h.check()
	got := h.get(task.ID)
	if got.State != backend.TaskReserved || got.WorkerID != "b" || len(got.RejectedBy) != 1 {
		t.Fatalf("task %s with %s, rejected by %v", got.State, got.WorkerID, got.RejectedBy)
	}
}

func TestStoreFailure_ReloadsState(t *testing.T) {
	h := MustStart(t, routing.Options{})
	q := h.queue(backend.Queue{Name: "all"})
	h.worker("a", nil, backend.ActivityAvailable)
	boom := errors.New("disk full")
	h.store.fail = func(*backend.RoutingChange) error { return boom }
	_, err := h.e.CreateTask(h.ctx, backend.TaskInput{Channel: "voice", QueueID: q.ID})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	h.store.fail = nil
	h.check()
	if ts, _ := h.e.Tasks(h.ctx, backend.TaskFilter{}); len(ts) != 0 {
		t.Fatalf("a task the store refused is in memory: %v", ts)
	}
	task := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
	if offeredTo(h, task.ID) != "a" {
		t.Fatal("not offered after recovering")
	}
	h.check()
}

func TestClosed(t *testing.T) {
	h := MustStart(t, routing.Options{})
	h.e.Close()
	_, err := h.e.CreateTask(h.ctx, backend.TaskInput{Channel: "voice"})
	wantCode(t, err, backend.EUnavailable)
	e := routing.New(newMemStore(), routing.Options{})
	_, err = e.Workers(h.ctx)
	wantCode(t, err, backend.EUnavailable)
}
