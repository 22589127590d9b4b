package routing_test

import (
	"testing"

	"switchboard/backend"
	"switchboard/backend/routing"
)

func wantReason(tb testing.TB, err error, code, reason string) {
	tb.Helper()
	wantCode(tb, err, code)
	if got := backend.ErrorReason(err); got != reason {
		tb.Fatalf("reason = %q (%v), want %q", got, err, reason)
	}
}

// desk returns a harness with a support queue everyone serves, a billing
// queue only "ana" serves, and ana, ben and cleo with one chat each at most.
func desk(t *testing.T) (h *harness, support, billing *backend.Queue) {
	h = MustStart(t, routing.Options{})
	support = h.queue(backend.Queue{Name: "support"})
	billing = h.queue(backend.Queue{Name: "billing", TargetWorkers: `"billing" in worker.skills`})
	for _, name := range []string{"ana", "ben", "cleo"} {
		attrs := map[string]any{}
		if name == "ana" {
			attrs["skills"] = []any{"billing"}
		}
		if _, err := h.e.UpsertWorker(h.ctx, &backend.Worker{ID: name, Name: name, Attributes: attrs,
			Activity: backend.ActivityBreak, Capacity: map[string]int{"chat": 1}}); err != nil {
			t.Fatal(err)
		}
	}
	return h, support, billing
}

func TestTakeTask(t *testing.T) {
	t.Run("a waiting task is reserved and assigned to who takes it", func(t *testing.T) {
		h, support, _ := desk(t)
		task := h.task(backend.TaskInput{Channel: "chat", QueueID: support.ID})
		r, err := h.e.TakeTask(h.ctx, task.ID, "ben")
		if err != nil {
			t.Fatal(err)
		}
		h.check()
		if r.WorkerID != "ben" || r.State != backend.ReservationAccepted || r.TaskID != task.ID {
			t.Fatalf("reservation = %+v", r)
		}
		if got := h.get(task.ID); got.State != backend.TaskAssigned || got.WorkerID != "ben" || got.AssignedAt.IsZero() {
			t.Fatalf("task %s with %q", got.State, got.WorkerID)
		}
	})
	t.Run("capacity is respected", func(t *testing.T) {
		h, support, _ := desk(t)
		first := h.task(backend.TaskInput{Channel: "chat", QueueID: support.ID})
		second := h.task(backend.TaskInput{Channel: "chat", QueueID: support.ID})
		if _, err := h.e.TakeTask(h.ctx, first.ID, "ana"); err != nil {
			t.Fatal(err)
		}
		_, err := h.e.TakeTask(h.ctx, second.ID, "ana")
		wantReason(t, err, backend.EConflict, backend.ReasonNoCapacity)
		h.check()
		if got := h.get(second.ID); got.State != backend.TaskPending {
			t.Fatalf("refused task is %s", got.State)
		}
		// Voice has its own capacity.
		call := h.task(backend.TaskInput{Channel: "voice", QueueID: support.ID})
		if _, err := h.e.TakeTask(h.ctx, call.ID, "ana"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("only from a queue the worker serves", func(t *testing.T) {
		h, _, billing := desk(t)
		task := h.task(backend.TaskInput{Channel: "chat", QueueID: billing.ID})
		_, err := h.e.TakeTask(h.ctx, task.ID, "ben")
		wantReason(t, err, backend.EForbidden, backend.ReasonNotInQueue)
		if _, err := h.e.TakeTask(h.ctx, task.ID, "ana"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an offer to someone else is withdrawn", func(t *testing.T) {
		h, support, _ := desk(t)
		h.e.SetWorkerActivity(h.ctx, "ben", backend.ActivityAvailable)
		task := h.task(backend.TaskInput{Channel: "chat", QueueID: support.ID})
		offer := h.offerOf(task.ID)
		if offer == nil || offer.WorkerID != "ben" {
			t.Fatalf("offer = %+v", offer)
		}
		if _, err := h.e.TakeTask(h.ctx, task.ID, "ana"); err != nil {
			t.Fatal(err)
		}
		h.check()
		_, err := h.e.AcceptReservation(h.ctx, offer.ID)
		wantReason(t, err, backend.ENotFound, backend.ReasonOfferGone)
		if len(h.offers("ben")) != 0 {
			t.Fatal("ben still holds an offer")
		}
	})
	t.Run("taking one's own offer accepts it", func(t *testing.T) {
		h, support, _ := desk(t)
		h.e.SetWorkerActivity(h.ctx, "ben", backend.ActivityAvailable)
		task := h.task(backend.TaskInput{Channel: "chat", QueueID: support.ID})
		offer := h.offerOf(task.ID)
		r, err := h.e.TakeTask(h.ctx, task.ID, "ben")
		if err != nil {
			t.Fatal(err)
		}
		h.check()
		if r.ID != offer.ID || r.State != backend.ReservationAccepted {
			t.Fatalf("reservation = %+v, want offer %s accepted", r, offer.ID)
		}
	})
	t.Run("a declined task may still be taken", func(t *testing.T) {
		h, support, _ := desk(t)
		h.e.SetWorkerActivity(h.ctx, "ben", backend.ActivityAvailable)
		task := h.task(backend.TaskInput{Channel: "chat", QueueID: support.ID})
		h.e.RejectReservation(h.ctx, h.offerOf(task.ID).ID)
		if _, err := h.e.TakeTask(h.ctx, task.ID, "ben"); err != nil {
			t.Fatal(err)
		}
		h.check()
		if got := h.get(task.ID); len(got.RejectedBy) != 0 {
			t.Fatalf("still declined by %v", got.RejectedBy)
		}
	})
	t.Run("conflicts are refused", func(t *testing.T) {
		h, support, _ := desk(t)
		task := h.task(backend.TaskInput{Channel: "chat", QueueID: support.ID})
		if _, err := h.e.TakeTask(h.ctx, task.ID, "ana"); err != nil {
			t.Fatal(err)
		}
		_, err := h.e.TakeTask(h.ctx, task.ID, "ben")
		wantReason(t, err, backend.EConflict, backend.ReasonTaskTaken)
		if _, err := h.e.CompleteTask(h.ctx, task.ID, ""); err != nil {
			t.Fatal(err)
		}
		_, err = h.e.TakeTask(h.ctx, task.ID, "ben")
		wantReason(t, err, backend.ENotFound, backend.ReasonTaskEnded)
		_, err = h.e.TakeTask(h.ctx, "task_nope", "ben")
		wantCode(t, err, backend.ENotFound)
		other := h.task(backend.TaskInput{Channel: "chat", QueueID: support.ID})
		_, err = h.e.TakeTask(h.ctx, other.ID, "wk_nope")
		wantCode(t, err, backend.ENotFound)
		h.check()
	})
}

func TestAssignTask(t *testing.T) {
	t.Run("to a named worker outside the queue", func(t *testing.T) {
		h, _, billing := desk(t)
		task := h.task(backend.TaskInput{Channel: "chat", QueueID: billing.ID})
		r, err := h.e.AssignTask(h.ctx, task.ID, "cleo")
		if err != nil {
			t.Fatal(err)
		}
		h.check()
		if r.WorkerID != "cleo" || r.State != backend.ReservationAccepted {
			t.Fatalf("reservation = %+v", r)
		}
	})
	t.Run("capacity is respected and conflicts are refused", func(t *testing.T) {
		h, support, _ := desk(t)
		first := h.task(backend.TaskInput{Channel: "chat", QueueID: support.ID})
		second := h.task(backend.TaskInput{Channel: "chat", QueueID: support.ID})
		if _, err := h.e.AssignTask(h.ctx, first.ID, "cleo"); err != nil {
			t.Fatal(err)
		}
		_, err := h.e.AssignTask(h.ctx, second.ID, "cleo")
		wantReason(t, err, backend.EConflict, backend.ReasonNoCapacity)
		_, err = h.e.AssignTask(h.ctx, first.ID, "ben")
		wantReason(t, err, backend.EConflict, backend.ReasonTaskTaken)
		h.check()
		if got := h.get(first.ID); got.WorkerID != "cleo" {
			t.Fatalf("task moved to %q", got.WorkerID)
		}
	})
}
