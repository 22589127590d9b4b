package routing_test

import (
	"context"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/routing"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// harness is an engine on a memStore with a fake clock.
type harness struct {
	tb    testing.TB
	ctx   context.Context
	clock *routing.FakeClock
	store *memStore
	e     *routing.Engine
	opts  routing.Options
}

// MustStart starts an engine on a fresh memStore; opts.Clock and NewID
// are filled in when empty.
func MustStart(tb testing.TB, opts routing.Options) *harness {
	tb.Helper()
	h := &harness{tb: tb, ctx: context.Background(), store: newMemStore()}
	if opts.Clock == nil {
		h.clock = routing.NewFakeClock(t0)
		opts.Clock = h.clock
	} else {
		h.clock = opts.Clock.(*routing.FakeClock)
	}
	if opts.NewID == nil {
		opts.NewID = seqIDs()
	}
	h.opts = opts
	h.e = routing.New(h.store, opts)
	routing.EnableDebug(h.e)
	if err := h.e.Start(h.ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.e.Close() })
	return h
}

// restart closes the engine and starts a new one on the same store.
func (h *harness) restart() {
	h.tb.Helper()
	h.e.Close()
	h.e = routing.New(h.store, h.opts)
	routing.EnableDebug(h.e)
	if err := h.e.Start(h.ctx); err != nil {
		h.tb.Fatal(err)
	}
}

func (h *harness) check() {
	h.tb.Helper()
	if err := h.e.CheckInvariants(true); err != nil {
		h.tb.Fatal(err)
	}
}

func (h *harness) queue(q backend.Queue) *backend.Queue {
	h.tb.Helper()
	out, err := h.e.UpsertQueue(h.ctx, &q)
	if err != nil {
		h.tb.Fatal(err)
	}
	return out
}

func (h *harness) worker(name string, attrs map[string]any, activity string) *backend.Worker {
	h.tb.Helper()
	w, err := h.e.UpsertWorker(h.ctx, &backend.Worker{ID: name, Name: name, Attributes: attrs, Activity: activity})
	if err != nil {
		h.tb.Fatal(err)
	}
	return w
}

func (h *harness) workflow(wf backend.Workflow) *backend.Workflow {
	h.tb.Helper()
	out, err := h.e.UpsertWorkflow(h.ctx, &wf)
	if err != nil {
		h.tb.Fatal(err)
	}
	return out
}

func (h *harness) task(in backend.TaskInput) *backend.Task {
	h.tb.Helper()
	t, err := h.e.CreateTask(h.ctx, in)
	if err != nil {
		h.tb.Fatal(err)
	}
	return t
}

func (h *harness) get(id string) *backend.Task {
	h.tb.Helper()
	t, err := h.e.Task(h.ctx, id)
	if err != nil {
		h.tb.Fatal(err)
	}
	return t
}

// offers returns the worker's pending reservations.
func (h *harness) offers(workerID string) []*backend.Reservation {
	h.tb.Helper()
	rs, err := h.e.Reservations(h.ctx, workerID)
	if err != nil {
		h.tb.Fatal(err)
	}
	var out []*backend.Reservation
	for _, r := range rs {
		if r.State == backend.ReservationPending {
			out = append(out, r)
		}
	}
	return out
}

// offerOf returns the pending reservation of task id, or nil.
func (h *harness) offerOf(taskID string) *backend.Reservation {
	h.tb.Helper()
	for _, r := range h.offers("") {
		if r.TaskID == taskID {
			return r
		}
	}
	return nil
}

func (h *harness) accept(r *backend.Reservation) {
	h.tb.Helper()
	if _, err := h.e.AcceptReservation(h.ctx, r.ID); err != nil {
		h.tb.Fatal(err)
	}
}

func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := backend.ErrorCode(err); got != code {
		tb.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func intp(n int) *int { return &n }
