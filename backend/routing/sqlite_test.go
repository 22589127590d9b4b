package routing_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/routing"
	"switchboard/backend/sqlite"
)

var _ routing.Store = (*sqlite.DB)(nil)

// MustOpenDB opens a SQLite store at path whose clock is clock.
func MustOpenDB(tb testing.TB, path string, clock routing.Clock) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(path)
	db.Now = clock.Now
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// TestCrashRestart runs the engine on the real SQLite store, closes the
// database under it while tasks are being created and offers answered,
// then reopens it and starts a new engine: no acknowledged task is lost, no
// task is reserved to two workers, and the offers pending at the crash
// are offered again (published anew, and moved on when they time out).
func TestCrashRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "engine.db")
	clock := routing.NewFakeClock(t0)
	opts := routing.Options{Clock: clock, NewID: seqIDs(), ReservationTimeout: 30 * time.Second, Logger: slog.New(slog.DiscardHandler)}
	db := MustOpenDB(t, path, clock)
	e := routing.New(db, opts)
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	q, err := e.UpsertQueue(ctx, &backend.Queue{Name: "support", TargetWorkers: `"support" in worker.skills`})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.UpsertWorkflow(ctx, &backend.Workflow{Name: "main", Default: []backend.WorkflowTarget{{QueueID: q.ID}}}); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := e.UpsertWorker(ctx, &backend.Worker{ID: fmt.Sprintf("w%02d", i), Name: fmt.Sprintf("Agent %d", i),
			Activity: backend.ActivityAvailable, Attributes: map[string]any{"skills": []any{"support"}}}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	var mu sync.Mutex
	acked := map[string]bool{}
	for range 60 {
		task, err := e.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelChat, Attributes: map[string]any{"n": rng.IntN(100)}})
		if err != nil {
			t.Fatal(err)
		}
		acked[task.ID] = true
	}
	answer := func(e *routing.Engine) {
		rs, _ := e.Reservations(ctx, "")
		for _, r := range rs {
			if r.State != backend.ReservationPending {
				continue
			}
			switch rng.IntN(3) {
			case 0:
				e.AcceptReservation(ctx, r.ID)
			case 1:
				e.RejectReservation(ctx, r.ID)
			}
		}
	}
	answer(e)

	// Crash: writers keep going while the database closes under them.
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				task, err := e.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelVoice, Priority: g, Attributes: map[string]any{"i": i}})
				if err == nil {
					mu.Lock()
					acked[task.ID] = true
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	db.Close()
	wg.Wait()
	e.Close()

	// Restart on the same file, a little later.
	clock.Advance(10 * time.Second)
	db2 := MustOpenDB(t, path, clock)
	var before []*backend.Reservation
	if snap, err := db2.LoadRouting(ctx); err != nil {
		t.Fatal(err)
	} else {
		for _, r := range snap.Reservations {
			if r.State == backend.ReservationPending {
				before = append(before, r)
			}
		}
	}
	seq, _ := db2.LastSeq(ctx)
	e2 := routing.New(db2, opts)
	routing.EnableDebug(e2)
	if err := e2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if err := e2.CheckInvariants(true); err != nil {
		t.Fatal(err)
	}
	for id := range acked {
		if _, err := e2.Task(ctx, id); err != nil {
			t.Fatalf("acknowledged task %s lost: %v", id, err)
		}
	}
	var dup int
	if err := db2.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT task_id FROM routing_reservations
		WHERE state IN ('pending', 'accepted', 'wrapping') GROUP BY task_id HAVING COUNT(*) > 1)`).Scan(&dup); err != nil {
		t.Fatal(err)
	}
	if dup != 0 {
		t.Fatalf("%d tasks reserved to two workers", dup)
	}
	if len(before) == 0 {
		t.Fatal("no offers were pending at the crash; the test proves nothing")
	}
	republished := map[string]bool{}
	events, _ := db2.EventsSince(ctx, seq, 10000)
	for _, ev := range events {
		if ev.Type == backend.EventReservationUpserted {
			republished[ev.EntityID] = true
		}
	}
	for _, r := range before {
		if !republished[r.ID] {
			t.Fatalf("pending offer %s was not offered again", r.ID)
		}
		if got := pendingOffer(t, e2, r.TaskID); got == nil || got.ID != r.ID {
			t.Fatalf("offer %s for task %s is gone after restart: %+v", r.ID, r.TaskID, got)
		}
	}
	// The remaining 20 s of each offer run out: each moves on or waits.
	clock.Advance(25 * time.Second)
	if err := e2.CheckInvariants(true); err != nil {
		t.Fatal(err)
	}
	for _, r := range before {
		task, err := e2.Task(ctx, r.TaskID)
		if err != nil {
			t.Fatal(err)
		}
		if got := pendingOffer(t, e2, r.TaskID); got != nil && got.ID == r.ID {
			t.Fatalf("offer %s outlived its timeout", r.ID)
		}
		if !slicesContains(task.RejectedBy, r.WorkerID) {
			t.Fatalf("task %s: timed-out worker %s not recorded", task.ID, r.WorkerID)
		}
	}
	// And the work still gets done.
	for range 200 {
		answer(e2)
		ts, _ := e2.Tasks(ctx, backend.TaskFilter{State: backend.TaskAssigned})
		for _, task := range ts {
			if _, err := e2.CompleteTask(ctx, task.ID, "done"); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(time.Second)
	}
	if err := e2.CheckInvariants(true); err != nil {
		t.Fatal(err)
	}
}

func pendingOffer(t *testing.T, e *routing.Engine, taskID string) *backend.Reservation {
	t.Helper()
	rs, err := e.Reservations(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.TaskID == taskID && r.State == backend.ReservationPending {
			return r
		}
	}
	return nil
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
