package routing_test

import (
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/routing"
)

// oneAgent returns a harness with one queue, a workflow into it with the
// given reservation timeout and cool-down, and worker "a" available.
func oneAgent(t *testing.T, opts routing.Options, timeout, reoffer int) (*harness, *backend.Workflow) {
	h := MustStart(t, opts)
	q := h.queue(backend.Queue{Name: "support"})
	wf := h.workflow(backend.Workflow{Name: "default", ReservationTimeoutSeconds: timeout, ReofferSeconds: reoffer,
		Default: []backend.WorkflowTarget{{QueueID: q.ID}}})
	h.worker("a", nil, backend.ActivityAvailable)
	return h, wf
}

func TestReoffer(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"a reject by the only eligible worker comes back to them after the cool-down", func(t *testing.T) {
			h, wf := oneAgent(t, routing.Options{}, 30, 45)
			task := h.task(backend.TaskInput{Channel: "chat", WorkflowID: wf.ID})
			if _, err := h.e.RejectReservation(h.ctx, h.offerOf(task.ID).ID); err != nil {
				t.Fatal(err)
			}
			h.check()
			if got := h.get(task.ID); got.State != backend.TaskPending || !got.RetryAt.Equal(t0.Add(45*time.Second)) {
				t.Fatalf("task %s, retry at %v", got.State, got.RetryAt)
			}
			h.clock.Advance(44 * time.Second)
			if r := h.offerOf(task.ID); r != nil {
				t.Fatalf("offered to %s during the cool-down", r.WorkerID)
			}
			h.clock.Advance(time.Second)
			h.check()
			if got := offeredTo(h, task.ID); got != "a" {
				t.Fatalf("after the cool-down offered to %q, want a again", got)
			}
			if got := h.get(task.ID); len(got.RejectedBy) != 0 || !got.RetryAt.IsZero() {
				t.Fatalf("declines kept: %v, retry at %v", got.RejectedBy, got.RetryAt)
			}
		}},
		{"the cool-down defaults to the reservation timeout", func(t *testing.T) {
			h, wf := oneAgent(t, routing.Options{}, 20, 0)
			task := h.task(backend.TaskInput{Channel: "chat", WorkflowID: wf.ID})
			h.e.RejectReservation(h.ctx, h.offerOf(task.ID).ID)
			h.clock.Advance(19 * time.Second)
			if h.offerOf(task.ID) != nil {
				t.Fatal("offered before the reservation timeout passed")
			}
			h.clock.Advance(time.Second)
			if offeredTo(h, task.ID) != "a" {
				t.Fatal("not offered again after the reservation timeout")
			}
		}},
		{"another eligible worker gets it first; the decliner only when nobody is left", func(t *testing.T) {
			h, wf := oneAgent(t, routing.Options{}, 30, 60)
			h.clock.Advance(time.Second)
			h.worker("b", nil, backend.ActivityAvailable)
			task := h.task(backend.TaskInput{Channel: "chat", WorkflowID: wf.ID})
			h.e.RejectReservation(h.ctx, h.offerOf(task.ID).ID)
			if got := offeredTo(h, task.ID); got != "b" {
				t.Fatalf("offered to %q, want b", got)
			}
			h.clock.Advance(10 * time.Second)
			h.e.RejectReservation(h.ctx, h.offerOf(task.ID).ID)
			// The cool-down runs from the last decline.
			h.clock.Advance(59 * time.Second)
			if r := h.offerOf(task.ID); r != nil {
				t.Fatalf("offered to %s before the cool-down of the last decline", r.WorkerID)
			}
			h.clock.Advance(time.Second)
			h.check()
			if got := offeredTo(h, task.ID); got != "a" {
				t.Fatalf("offered to %q, want the longest idle decliner a", got)
			}
		}},
		{"the cool-down survives a restart", func(t *testing.T) {
			h, wf := oneAgent(t, routing.Options{}, 30, 40)
			task := h.task(backend.TaskInput{Channel: "chat", WorkflowID: wf.ID})
			h.e.RejectReservation(h.ctx, h.offerOf(task.ID).ID)
			h.clock.Advance(10 * time.Second)
			h.restart()
			h.check()
			if h.offerOf(task.ID) != nil {
				t.Fatal("offered again right after the restart")
			}
			h.clock.Advance(30 * time.Second)
			if offeredTo(h, task.ID) != "a" {
				t.Fatal("not offered again after the restart and the cool-down")
			}
		}},
		{"an expired offer is a missed-offer event and comes back after the cool-down", func(t *testing.T) {
			h, wf := oneAgent(t, routing.Options{}, 15, 30)
			conv := "cv_visitor"
			task := h.task(backend.TaskInput{Channel: "chat", WorkflowID: wf.ID, ConversationID: conv})
			offer := h.offerOf(task.ID)
			h.clock.Advance(15 * time.Second)
			h.check()
			missed := h.store.missedOffers()
			if len(missed) != 1 {
				t.Fatalf("%d missed-offer events, want 1", len(missed))
			}
			m := missed[0]
			if m.ReservationID != offer.ID || m.WorkerID != "a" || m.TaskID != task.ID || m.ConversationID != conv ||
				m.Channel != "chat" || !m.OfferedAt.Equal(t0) || !m.ExpiredAt.Equal(t0.Add(15*time.Second)) {
				t.Fatalf("missed offer = %+v", m)
			}
			if r := h.offerOf(task.ID); r != nil {
				t.Fatalf("offered to %s right after it expired", r.WorkerID)
			}
			h.clock.Advance(30 * time.Second)
			if offeredTo(h, task.ID) != "a" {
				t.Fatal("the expired task never came back")
			}
			// An answered offer is not missed.
			h.accept(h.offerOf(task.ID))
			h.clock.Advance(time.Minute)
			if n := len(h.store.missedOffers()); n != 1 {
				t.Fatalf("%d missed-offer events after an accept, want still 1", n)
			}
		}},
	} {
		t.Run(tc.name, tc.run)
	}
}

func TestWrapUpLimit(t *testing.T) {
	h := MustStart(t, routing.Options{})
	q := h.queue(backend.Queue{Name: "support"})
	wf := h.workflow(backend.Workflow{Name: "default", WrapUpSeconds: 60, Default: []backend.WorkflowTarget{{QueueID: q.ID}}})
	h.worker("a", nil, backend.ActivityAvailable)
	h.e.UpsertWorker(h.ctx, &backend.Worker{ID: "a", Name: "a", Capacity: map[string]int{"chat": 1}})
	first := h.task(backend.TaskInput{Channel: "chat", WorkflowID: wf.ID})
	second := h.task(backend.TaskInput{Channel: "chat", WorkflowID: wf.ID})
	h.accept(h.offerOf(first.ID))
	h.clock.Advance(5 * time.Second)
	got, err := h.e.WrapUp(h.ctx, first.ID, "solved")
	if err != nil {
		t.Fatal(err)
	}
	at := t0.Add(5 * time.Second)
	if !got.WrapUpAt.Equal(at) || !got.WrapUpEndsAt.Equal(at.Add(time.Minute)) {
		t.Fatalf("wrap-up from %v to %v", got.WrapUpAt, got.WrapUpEndsAt)
	}
	h.clock.Advance(59 * time.Second)
	if got := h.get(first.ID); got.State != backend.TaskWrapping {
		t.Fatalf("task %s before the limit", got.State)
	}
	if h.offerOf(second.ID) != nil {
		t.Fatal("the second chat was offered while the worker was full")
	}
	h.clock.Advance(time.Second)
	h.check()
	if got := h.get(first.ID); got.State != backend.TaskCompleted || got.Disposition != "solved" {
		t.Fatalf("after the limit the task is %s with %q", got.State, got.Disposition)
	}
	if offeredTo(h, second.ID) != "a" {
		t.Fatal("the freed capacity was not used")
	}
}
