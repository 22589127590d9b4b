package routing_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/routing"
)

// simConfig sizes one simulation run.
type simConfig struct {
	seed    uint64
	workers int
	tasks   int
	// fullEvery runs the full work-conservation check every so many steps;
	// restartEvery restarts the engine on the same store.
	fullEvery, restartEvery int
}

// TestSimulation drives the engine with random agents: hundreds of
// workers, thousands of tasks, random accept, reject, timeout, break,
// offline, cancel and transfer, on a fake clock and a seeded RNG. After
// every step it checks that a task is reserved to at most one worker, no
// worker is over capacity, no task is offered again to a worker who
// rejected it, offers respect priority and age (the engine's per-offer
// check), and the sim's view of open tasks matches the engine's; at the
// end every task is completed or canceled.
func TestSimulation(t *testing.T) {
	cfg := simConfig{seed: 1, workers: 200, tasks: 2000, fullEvery: 500, restartEvery: 2000}
	if testing.Short() {
		cfg.workers, cfg.tasks = 100, 600
	}
	runSimulation(t, cfg)
}

type sim struct {
	t      *testing.T
	h      *harness
	rng    *rand.Rand
	cfg    simConfig
	queues map[string]string
	wids   []string
	cap    map[string]map[string]int // worker → channel → capacity
	// open, assigned and wrapping track tasks by the sim's own actions.
	open, assigned, wrapping map[string]bool
	created                  int
	rejected                 map[[2]string]bool // (task, worker) pairs the sim rejected
	ended                    map[string]string  // task → final state
	step                     int
	stats                    map[string]int
}

func runSimulation(t *testing.T, cfg simConfig) {
	start := time.Now()
	s := &sim{
		t: t, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15)),
		queues: map[string]string{}, cap: map[string]map[string]int{},
		open: map[string]bool{}, assigned: map[string]bool{}, wrapping: map[string]bool{},
		rejected: map[[2]string]bool{}, ended: map[string]string{}, stats: map[string]int{},
	}
	s.h = MustStart(t, routing.Options{ReservationTimeout: 20 * time.Second, TimeoutActivity: "Missed"})
	s.setup()
	for s.created < cfg.tasks {
		s.advance(time.Duration(s.rng.IntN(400)) * time.Millisecond)
		s.act(false)
		s.verify()
	}
	s.t.Logf("open tasks before the drain: %d", len(s.open))
	s.drain()
	s.finalCheck()
	t.Logf("seed %d: %d workers, %d tasks, %d steps in %v; actions %v", cfg.seed, cfg.workers, cfg.tasks, s.step, time.Since(start).Round(time.Millisecond), s.stats)
}

var (
	simSkills    = []string{"sales", "billing", "support", "tech"}
	simDepts     = []string{"sales", "billing", "support", "tech"}
	simChannels  = []string{backend.ChannelVoice, backend.ChannelVoice, backend.ChannelChat, backend.ChannelChat, backend.ChannelChat, backend.ChannelEmail}
	simLanguages = []string{"en", "en", "en", "es", "es", "fr"}
)

func (s *sim) setup() {
	h := s.h
	if _, err := h.e.UpsertActivity(h.ctx, backend.Activity{Name: "Missed"}); err != nil {
		s.t.Fatal(err)
	}
	for _, q := range []backend.Queue{
		{Name: "sales", TargetWorkers: `"sales" in worker.skills`},
		{Name: "billing", TargetWorkers: `"billing" in worker.skills && task.language in worker.languages`},
		{Name: "support", TargetWorkers: `"support" in worker.skills`, SLASeconds: 30},
		{Name: "tech", TargetWorkers: `"tech" in worker.skills`, OrderBy: "level"},
		{Name: "vip", TargetWorkers: `worker.level >= 3`},
		{Name: "spanish", TargetWorkers: `"es" in worker.languages`, LIFO: true},
		{Name: "overflow"},
	} {
		s.queues[q.Name] = h.queue(q).ID
	}
	q := s.queues
	h.workflow(backend.Workflow{
		Name: "main",
		Filters: []backend.WorkflowFilter{
			{Name: "vip", Expression: `task.vip == true`, Targets: []backend.WorkflowTarget{
				{QueueID: q["vip"], TimeoutSeconds: 30, SkipIfNoWorkers: true, Priority: intp(10)},
				{QueueID: q["overflow"], Expression: `worker.level >= 2`}}},
			{Name: "billing", Expression: `task.department == "billing"`, Targets: []backend.WorkflowTarget{
				{QueueID: q["billing"], Expression: `worker.level >= 2`, TimeoutSeconds: 60},
				{QueueID: q["billing"], TimeoutSeconds: 120}}},
			{Name: "spanish", Expression: `task.language == "es"`, Targets: []backend.WorkflowTarget{{QueueID: q["spanish"], TimeoutSeconds: 45}}},
			{Name: "tech", Expression: `task.department == "tech"`, Targets: []backend.WorkflowTarget{{QueueID: q["tech"], TimeoutSeconds: 90}}},
			{Name: "support", Expression: `task.department == "support"`, Targets: []backend.WorkflowTarget{{QueueID: q["support"]}}},
		},
		Default: []backend.WorkflowTarget{{QueueID: q["sales"], TimeoutSeconds: 120}, {QueueID: q["overflow"]}},
	})
	for i := range s.cfg.workers {
		id := fmt.Sprintf("w%04d", i)
		var skills []any
		for _, sk := range simSkills {
			if s.rng.Float64() < 0.4 {
				skills = append(skills, sk)
			}
		}
		langs := []any{"en"}
		if s.rng.Float64() < 0.3 {
			langs = append(langs, "es")
		}
		if s.rng.Float64() < 0.15 {
			langs = append(langs, "fr")
		}
		capacity := map[string]int{}
		if s.rng.Float64() < 0.2 {
			capacity[backend.ChannelChat] = 1 + s.rng.IntN(4)
		}
		act := backend.ActivityAvailable
		if s.rng.Float64() < 0.3 {
			act = backend.ActivityOffline
		}
		if _, err := h.e.UpsertWorker(h.ctx, &backend.Worker{ID: id, Name: id, Activity: act, Capacity: capacity,
			Attributes: map[string]any{"skills": skills, "languages": langs, "level": float64(1 + s.rng.IntN(3))}}); err != nil {
			s.t.Fatal(err)
		}
		s.wids = append(s.wids, id)
		s.cap[id] = capacity
		h.clock.Advance(time.Duration(s.rng.IntN(100)) * time.Millisecond)
	}
}

func (s *sim) advance(d time.Duration) { s.h.clock.Advance(d) }

func (s *sim) capacity(wid, ch string) int {
	if n, ok := s.cap[wid][ch]; ok {
		return n
	}
	return backend.DefaultCapacity(ch)
}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// sortedKeys returns the keys of m in order, so picks are reproducible.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (s *sim) must(err error, what string) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("step %d: %s: %v", s.step, what, err)
	}
}

// act performs one random action. In drain mode agents accept and finish
// everything and nobody goes away.
func (s *sim) act(drain bool) {
	s.step++
	h := s.h
	roll := s.rng.IntN(100)
	if drain {
		roll = 25 + s.rng.IntN(60) // offers and completions only
	}
	switch {
	case roll < 25 && s.created < s.cfg.tasks:
		s.createTask()
	case roll < 60:
		offers := h.offers("")
		if len(offers) == 0 {
			return
		}
		r := pick(s.rng, offers)
		switch p := s.rng.Float64(); {
		case p < 0.75 || drain:
			_, err := h.e.AcceptReservation(h.ctx, r.ID)
			s.must(err, "accept")
			s.assigned[r.TaskID] = true
			s.stats["accept"]++
		case p < 0.9:
			_, err := h.e.RejectReservation(h.ctx, r.ID)
			s.must(err, "reject")
			s.rejected[[2]string{r.TaskID, r.WorkerID}] = true
			s.stats["reject"]++
		default:
			s.stats["ignore"]++ // let it time out
		}
	case roll < 85:
		busy := append(sortedKeys(s.assigned), sortedKeys(s.wrapping)...)
		if len(busy) == 0 {
			return
		}
		id := pick(s.rng, busy)
		if s.assigned[id] && s.rng.Float64() < 0.4 {
			_, err := h.e.WrapUp(h.ctx, id, "wrapped")
			s.must(err, "wrap up")
			delete(s.assigned, id)
			s.wrapping[id] = true
			s.stats["wrap"]++
			return
		}
		_, err := h.e.CompleteTask(h.ctx, id, "done")
		s.must(err, "complete")
		delete(s.assigned, id)
		delete(s.wrapping, id)
		delete(s.open, id)
		s.ended[id] = backend.TaskCompleted
		s.stats["complete"]++
	case roll < 93:
		// Agents away (on a break, offline, or parked after missing an
		// offer) come back more often than others leave.
		ws, err := h.e.Workers(h.ctx)
		s.must(err, "workers")
		var away, here []string
		for _, w := range ws {
			if w.Available {
				here = append(here, w.ID)
			} else {
				away = append(away, w.ID)
			}
		}
		wid, act := "", backend.ActivityAvailable
		if len(away) > 0 && (s.rng.Float64() < 0.6 || len(here) == 0) {
			wid = pick(s.rng, away)
		} else {
			wid, act = pick(s.rng, here), backend.ActivityBreak
			if s.rng.Float64() < 0.4 {
				act = backend.ActivityOffline
			}
		}
		_, err = h.e.SetWorkerActivity(h.ctx, wid, act)
		s.must(err, "set activity")
		s.stats["activity"]++
	case roll < 97:
		var waiting []string
		for _, id := range sortedKeys(s.open) {
			if !s.assigned[id] && !s.wrapping[id] {
				waiting = append(waiting, id)
			}
		}
		if len(waiting) == 0 {
			return
		}
		id := pick(s.rng, waiting)
		_, err := h.e.CancelTask(h.ctx, id, "abandoned")
		s.must(err, "cancel")
		delete(s.open, id)
		s.ended[id] = backend.TaskCanceled
		s.stats["cancel"]++
	case roll < 99:
		assigned := sortedKeys(s.assigned)
		if len(assigned) == 0 {
			return
		}
		id := pick(s.rng, assigned)
		to := backend.TransferTarget{QueueID: s.queues["overflow"]}
		if s.rng.Float64() < 0.5 {
			to = backend.TransferTarget{WorkerID: pick(s.rng, s.wids)}
		}
		_, err := h.e.TransferTask(h.ctx, id, to)
		if code := backend.ErrorCode(err); err != nil && code != backend.EConflict && code != backend.EInvalid {
			s.must(err, "transfer")
		}
		if err == nil {
			delete(s.assigned, id)
			s.stats["transfer"]++
		}
	default:
		wid := pick(s.rng, s.wids)
		w, err := h.e.Worker(h.ctx, wid)
		s.must(err, "worker")
		w.Attributes["skills"] = []any{pick(s.rng, simSkills), pick(s.rng, simSkills)}
		w.Activity = ""
		_, err = h.e.UpsertWorker(h.ctx, w)
		s.must(err, "update worker")
		s.stats["reskill"]++
	}
}

func (s *sim) createTask() {
	attrs := map[string]any{"department": pick(s.rng, simDepts), "language": pick(s.rng, simLanguages), "customer": s.created}
	if s.rng.Float64() < 0.05 {
		attrs["vip"] = true
	}
	task, err := s.h.e.CreateTask(s.h.ctx, backend.TaskInput{Channel: pick(s.rng, simChannels), Attributes: attrs, Priority: s.rng.IntN(4)})
	s.must(err, "create task")
	s.open[task.ID] = true
	s.created++
	s.stats["create"]++
}

// verify checks the invariants after a step, from the engine's own view
// and from what the sim can observe through the public API.
func (s *sim) verify() {
	s.t.Helper()
	h := s.h
	if err := h.e.CheckInvariants(s.step%s.cfg.fullEvery == 0); err != nil {
		s.t.Fatalf("step %d: %v", s.step, err)
	}
	rs, err := h.e.Reservations(h.ctx, "")
	s.must(err, "reservations")
	perTask := map[string]int{}
	load := map[[2]string]int{}
	for _, r := range rs {
		perTask[r.TaskID]++
		if perTask[r.TaskID] > 1 {
			s.t.Fatalf("step %d: task %s reserved to two workers", s.step, r.TaskID)
		}
		k := [2]string{r.WorkerID, r.Channel}
		load[k]++
		if load[k] > s.capacity(r.WorkerID, r.Channel) {
			s.t.Fatalf("step %d: worker %s over its %s capacity", s.step, r.WorkerID, r.Channel)
		}
		if r.State == backend.ReservationPending && s.rejected[[2]string{r.TaskID, r.WorkerID}] {
			s.t.Fatalf("step %d: task %s offered again to %s, who rejected it", s.step, r.TaskID, r.WorkerID)
		}
		if !s.open[r.TaskID] {
			s.t.Fatalf("step %d: reservation for task %s the sim ended", s.step, r.TaskID)
		}
	}
	if s.step%s.cfg.restartEvery == 0 {
		s.restart()
	}
}

// restart closes the engine mid-flight and starts a new one on the same
// store; the open tasks must come back unchanged.
func (s *sim) restart() {
	h := s.h
	before, err := h.e.Tasks(h.ctx, backend.TaskFilter{})
	s.must(err, "tasks")
	h.restart()
	after, err := h.e.Tasks(h.ctx, backend.TaskFilter{})
	s.must(err, "tasks")
	for _, ts := range [][]*backend.Task{before, after} {
		for _, t := range ts {
			t.UpdatedAt = time.Time{}
		}
	}
	if !reflect.DeepEqual(before, after) {
		s.t.Fatalf("step %d: open tasks differ after restart", s.step)
	}
	if err := h.e.CheckInvariants(true); err != nil {
		s.t.Fatalf("step %d after restart: %v", s.step, err)
	}
	s.stats["restart"]++
}

// drain brings everyone back and works off every task; tasks that nobody
// left can take (all eligible workers rejected them) are abandoned by
// their customers after ten minutes.
func (s *sim) drain() {
	h := s.h
	for _, wid := range s.wids {
		_, err := h.e.SetWorkerActivity(h.ctx, wid, backend.ActivityAvailable)
		s.must(err, "back to work")
	}
	stuckSince := map[string]time.Time{}
	for i := 0; len(s.open) > 0; i++ {
		if i > 50*s.cfg.tasks {
			s.t.Fatalf("drain did not finish: %d tasks open", len(s.open))
		}
		s.advance(time.Duration(s.rng.IntN(1000)) * time.Millisecond)
		// Workers parked by a timeout come back.
		if i%50 == 0 {
			for _, wid := range s.wids {
				if w, _ := h.e.Worker(h.ctx, wid); w.Activity != backend.ActivityAvailable {
					_, err := h.e.SetWorkerActivity(h.ctx, wid, backend.ActivityAvailable)
					s.must(err, "back to work")
				}
			}
			pending, err := h.e.Tasks(h.ctx, backend.TaskFilter{State: backend.TaskPending})
			s.must(err, "tasks")
			now := h.clock.Now()
			for _, t := range pending {
				if since, ok := stuckSince[t.ID]; !ok {
					stuckSince[t.ID] = now
				} else if now.Sub(since) > 10*time.Minute {
					_, err := h.e.CancelTask(h.ctx, t.ID, "abandoned")
					s.must(err, "abandon")
					delete(s.open, t.ID)
					s.ended[t.ID] = backend.TaskCanceled
					s.stats["abandon"]++
				}
			}
		}
		s.act(true)
		s.verify()
	}
}

func (s *sim) finalCheck() {
	h := s.h
	if open, _ := h.e.Tasks(h.ctx, backend.TaskFilter{}); len(open) != 0 {
		s.t.Fatalf("%d tasks still open", len(open))
	}
	if rs, _ := h.e.Reservations(h.ctx, ""); len(rs) != 0 {
		s.t.Fatalf("%d reservations still active", len(rs))
	}
	if len(s.ended) != s.cfg.tasks {
		s.t.Fatalf("%d of %d tasks ended", len(s.ended), s.cfg.tasks)
	}
	for id, want := range s.ended {
		stored := h.store.tasks[id]
		if stored == nil || stored.State != want {
			s.t.Fatalf("task %s stored as %v, want %s", id, stored, want)
		}
	}
	for id, r := range h.store.reservations {
		if r.Active() {
			s.t.Fatalf("reservation %s still %s in the store", id, r.State)
		}
	}
	var offered, completed, canceled int64
	for _, qid := range s.queues {
		qs, err := h.e.QueueStats(h.ctx, qid)
		s.must(err, "queue stats")
		offered += qs.Offered
		completed += qs.Completed
		canceled += qs.Canceled
	}
	if int(completed+canceled) != s.cfg.tasks {
		s.t.Fatalf("queues counted %d completed + %d canceled, want %d", completed, canceled, s.cfg.tasks)
	}
}
