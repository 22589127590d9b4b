package routing_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/routing"
	"switchboard/backend/sqlite"
)

// Benchmark sizes from the issue: 10,000 workers, 100 queues and 10,000
// waiting tasks (plus one task in hand per worker).
const (
	benchWorkers = 10000
	benchQueues  = 100
	benchWaiting = 10000
)

// discardStore serves a seeded snapshot and forgets every write, so the
// benchmark measures the engine's decisions alone.
type discardStore struct{ snap *backend.RoutingSnapshot }

func (s discardStore) LoadRouting(context.Context) (*backend.RoutingSnapshot, error) {
	return s.snap, nil
}
func (discardStore) SaveRouting(context.Context, *backend.RoutingChange) error { return nil }
func (discardStore) FindTask(_ context.Context, id string) (*backend.Task, error) {
	return nil, backend.Errorf(backend.ENotFound, "Task %s does not exist.", id)
}

func benchQueueID(i int) string { return fmt.Sprintf("q_%03d", i) }

// benchSeed builds a loaded contact center: every worker available and
// busy with one call (voice capacity 1), and benchWaiting calls waiting
// across the queues. A tenth of the queues also match the task's language.
// With agents, every worker is a user's and every task has a
// conversation, so each decision also records who may read it.
func benchSeed(now time.Time, agents bool) *backend.RoutingChange {
	c := &backend.RoutingChange{Activities: []*backend.Activity{
		{Name: backend.ActivityAvailable, Available: true, CreatedAt: now, UpdatedAt: now},
		{Name: backend.ActivityOffline, CreatedAt: now, UpdatedAt: now},
	}}
	for i := range benchQueues {
		target := fmt.Sprintf(`"s%d" in worker.skills`, i)
		if i%10 == 0 {
			target += ` && task.language in worker.languages`
		}
		c.Queues = append(c.Queues, &backend.Queue{ID: benchQueueID(i), Name: benchQueueID(i), TargetWorkers: target, CreatedAt: now, UpdatedAt: now})
	}
	rng := rand.New(rand.NewPCG(42, 42))
	for j := range benchWorkers {
		langs := []any{"en"}
		if j%3 == 0 {
			langs = append(langs, "es")
		}
		id := fmt.Sprintf("wk_%05d", j)
		c.Workers = append(c.Workers, &backend.Worker{ID: id, Name: id, Activity: backend.ActivityAvailable, Available: true,
			Attributes: map[string]any{"skills": []any{fmt.Sprintf("s%d", j%100), fmt.Sprintf("s%d", (j*7+3)%100), fmt.Sprintf("s%d", (j*13+5)%100)},
				"languages": langs, "level": float64(1 + j%3)},
			Capacity: map[string]int{}, IdleSince: now.Add(time.Duration(rng.IntN(3600)) * time.Second), ActivityChangedAt: now, CreatedAt: now, UpdatedAt: now})
		tid := fmt.Sprintf("task_held_%05d", j)
		if agents {
			c.Workers[j].UserID = "us_" + id
		}
		c.Tasks = append(c.Tasks, &backend.Task{ID: tid, Channel: backend.ChannelVoice, Attributes: map[string]any{"language": "en"},
			State: backend.TaskAssigned, QueueID: benchQueueID(j % 100), WorkerID: id, CreatedAt: now, AssignedAt: now, UpdatedAt: now})
		c.Reservations = append(c.Reservations, &backend.Reservation{ID: "res_held_" + id, TaskID: tid, WorkerID: id, Channel: backend.ChannelVoice,
			QueueID: benchQueueID(j % 100), State: backend.ReservationAccepted, ExpiresAt: now, CreatedAt: now, UpdatedAt: now})
	}
	for k := range benchWaiting {
		c.Tasks = append(c.Tasks, benchTask(rng, fmt.Sprintf("task_wait_%05d", k), now.Add(-time.Duration(rng.IntN(600))*time.Second)))
	}
	if agents {
		for _, t := range c.Tasks {
			t.ConversationID = "cv_" + t.ID
		}
	}
	return c
}

func benchTask(rng *rand.Rand, id string, at time.Time) *backend.Task {
	lang := "en"
	if rng.IntN(4) == 0 {
		lang = "es"
	}
	return &backend.Task{ID: id, Channel: backend.ChannelVoice, Attributes: map[string]any{"language": lang}, Priority: rng.IntN(4),
		State: backend.TaskPending, QueueID: benchQueueID(rng.IntN(benchQueues)), CreatedAt: at, UpdatedAt: at}
}

func snapshotOf(c *backend.RoutingChange) *backend.RoutingSnapshot {
	return &backend.RoutingSnapshot{Activities: c.Activities, Workers: c.Workers, Queues: c.Queues, Tasks: c.Tasks,
		Reservations: c.Reservations, QueueCounters: map[string]backend.RoutingCounters{}, WorkerCounters: map[string]backend.RoutingCounters{}}
}

// BenchmarkAssignMemory measures routing decisions with writes discarded.
func BenchmarkAssignMemory(b *testing.B) {
	clock := routing.NewFakeClock(t0)
	seed := benchSeed(t0, false)
	benchAssign(b, discardStore{snapshotOf(seed)}, clock, false)
}

// BenchmarkAssignSQLite measures the same with every decision committed
// to SQLite (WAL, one writer) with its events; "agents" with workers that
// are users and tasks that serve conversations, so every decision also
// records who may read each conversation (about 300 agents serve each
// queue).
func BenchmarkAssignSQLite(b *testing.B) {
	b.Run("workers", func(b *testing.B) { benchAssignSQLite(b, false) })
	b.Run("agents", func(b *testing.B) { benchAssignSQLite(b, true) })
}

func benchAssignSQLite(b *testing.B, agents bool) {
	clock := routing.NewFakeClock(t0)
	db := sqlite.NewDB(filepath.Join(b.TempDir(), "engine.db"))
	db.Now = clock.Now
	if err := db.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.SaveRouting(context.Background(), benchSeed(t0, agents)); err != nil {
		b.Fatal(err)
	}
	benchAssign(b, db, clock, agents)
}

// benchAssign runs the loaded center's steady state. Each iteration one
// worker finishes a call; the engine decides which waiting call to offer
// them (a "freed" decision over 10,000 waiting tasks in the worker's
// queues); they accept; and a new call arrives (an "arrival" decision over
// 10,000 available workers, all busy, so it waits). It reports both
// decisions' p50 and p99, and calls routed per second over the whole loop.
func benchAssign(b *testing.B, store routing.Store, clock *routing.FakeClock, agents bool) {
	ctx := context.Background()
	e := routing.New(store, routing.Options{Clock: clock, NewID: seqIDs(), Logger: slog.New(slog.DiscardHandler)})
	if err := e.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	held := map[string]string{} // worker → task in hand
	for j := range benchWorkers {
		id := fmt.Sprintf("wk_%05d", j)
		held[id] = fmt.Sprintf("task_held_%05d", j)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	freed := make([]time.Duration, 0, b.N)
	arrival := make([]time.Duration, 0, b.N)
	routed := 0
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		wid := fmt.Sprintf("wk_%05d", rng.IntN(benchWorkers))
		tid, ok := held[wid]
		if !ok {
			continue
		}
		t1 := time.Now()
		if _, err := e.CompleteTask(ctx, tid, "done"); err != nil {
			b.Fatal(err)
		}
		freed = append(freed, time.Since(t1))
		delete(held, wid)
		rs, err := e.Reservations(ctx, wid)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rs {
			if r.State == backend.ReservationPending {
				if _, err := e.AcceptReservation(ctx, r.ID); err != nil {
					b.Fatal(err)
				}
				held[wid] = r.TaskID
				routed++
			}
		}
		t2 := time.Now()
		nt := benchTask(rng, "", clock.Now())
		in := backend.TaskInput{Channel: nt.Channel, Attributes: nt.Attributes, Priority: nt.Priority, QueueID: nt.QueueID}
		if agents {
			in.ConversationID = fmt.Sprintf("cv_new_%d", i)
		}
		task, err := e.CreateTask(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		arrival = append(arrival, time.Since(t2))
		if task.State == backend.TaskReserved {
			// It went to an idle worker: they take it.
			rs, _ := e.Reservations(ctx, task.WorkerID)
			for _, r := range rs {
				if r.TaskID == task.ID {
					e.AcceptReservation(ctx, r.ID)
					held[task.WorkerID] = task.ID
					routed++
				}
			}
		}
		clock.Advance(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	report := func(name string, ds []time.Duration) {
		if len(ds) == 0 {
			return
		}
		slices.Sort(ds)
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), name+"-p50-µs")
		b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), name+"-p99-µs")
	}
	report("freed", freed)
	report("arrival", arrival)
	b.ReportMetric(float64(routed)/elapsed.Seconds(), "routed/s")
	if err := e.CheckInvariants(false); err != nil {
		b.Fatal(err)
	}
}
