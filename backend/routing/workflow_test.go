package routing_test

import (
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/routing"
)

// contactCenter sets up queues sales, billing, es (Spanish), vip and
// overflow, with nobody staffed.
func contactCenter(t *testing.T) (*harness, map[string]string) {
	h := MustStart(t, routing.Options{})
	ids := map[string]string{}
	for name, target := range map[string]string{
		"sales":    `"sales" in worker.skills`,
		"billing":  `"billing" in worker.skills`,
		"es":       `"es" in worker.languages`,
		"vip":      `worker.level >= 3`,
		"overflow": ``,
	} {
		ids[name] = h.queue(backend.Queue{Name: name, TargetWorkers: target}).ID
	}
	return h, ids
}

func TestWorkflowFilters(t *testing.T) {
	h, q := contactCenter(t)
	wf := h.workflow(backend.Workflow{
		Name: "main",
		Filters: []backend.WorkflowFilter{
			{Name: "vip", Expression: `task.vip == true`, Targets: []backend.WorkflowTarget{{QueueID: q["vip"], Priority: intp(10)}}},
			{Name: "spanish", Expression: `task.language == "es"`, Targets: []backend.WorkflowTarget{{QueueID: q["es"]}}},
			{Name: "billing", Expression: `task.department == "billing"`, Targets: []backend.WorkflowTarget{{QueueID: q["billing"]}}},
		},
		Default: []backend.WorkflowTarget{{QueueID: q["sales"]}},
	})
	for _, tc := range []struct {
		name     string
		attrs    map[string]any
		filter   string
		queue    string
		priority int
	}{
		{"vip first even in spanish", map[string]any{"vip": true, "language": "es"}, "vip", "vip", 10},
		{"spanish", map[string]any{"language": "es", "department": "billing"}, "spanish", "es", 1},
		{"billing", map[string]any{"department": "billing"}, "billing", "billing", 1},
		{"default catches the rest", map[string]any{"department": "returns"}, "default", "sales", 1},
		{"no attributes", nil, "default", "sales", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := h.task(backend.TaskInput{Channel: "chat", Attributes: tc.attrs, Priority: 1})
			if task.WorkflowID != wf.ID || task.Filter != tc.filter || task.QueueID != q[tc.queue] || task.Priority != tc.priority {
				t.Fatalf("task went to filter %q queue %s priority %d, want %q %s %d", task.Filter, task.QueueID, task.Priority, tc.filter, q[tc.queue], tc.priority)
			}
		})
	}
	h.check()
}

func TestUpsertWorkflow_Invalid(t *testing.T) {
	h, q := contactCenter(t)
	for _, tc := range []struct {
		name string
		wf   backend.Workflow
	}{
		{"no name", backend.Workflow{Default: []backend.WorkflowTarget{{QueueID: q["sales"]}}}},
		{"no default", backend.Workflow{Name: "x"}},
		{"bad filter", backend.Workflow{Name: "x", Default: []backend.WorkflowTarget{{QueueID: q["sales"]}},
			Filters: []backend.WorkflowFilter{{Name: "f", Expression: `task.vip ==`, Targets: []backend.WorkflowTarget{{QueueID: q["vip"]}}}}}},
		{"bad target expression", backend.Workflow{Name: "x", Default: []backend.WorkflowTarget{{QueueID: q["sales"], Expression: `worker.level >`}}}},
		{"unknown queue", backend.Workflow{Name: "x", Default: []backend.WorkflowTarget{{QueueID: "q_missing"}}}},
		{"filter without targets", backend.Workflow{Name: "x", Default: []backend.WorkflowTarget{{QueueID: q["sales"]}},
			Filters: []backend.WorkflowFilter{{Name: "f", Expression: `true`}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.e.UpsertWorkflow(h.ctx, &tc.wf)
			wantCode(t, err, backend.EInvalid)
		})
	}
}

func TestEscalation(t *testing.T) {
	type step struct {
		after time.Duration
		queue string
		prio  int
	}
	for _, tc := range []struct {
		name    string
		targets []backend.WorkflowTarget // of the one filter, which every task matches
		staff   map[string]map[string]any
		steps   []step
	}{
		{
			name: "timeouts walk the targets, then the default",
			targets: []backend.WorkflowTarget{
				{QueueID: "billing", TimeoutSeconds: 30},
				{QueueID: "es", TimeoutSeconds: 60, Priority: intp(5)},
			},
			steps: []step{{0, "billing", 1}, {29 * time.Second, "billing", 1}, {time.Second, "es", 5}, {60 * time.Second, "overflow", 5}, {time.Hour, "overflow", 5}},
		},
		{
			name: "a target nobody can take is skipped",
			targets: []backend.WorkflowTarget{
				{QueueID: "vip", SkipIfNoWorkers: true, TimeoutSeconds: 10},
				{QueueID: "billing", TimeoutSeconds: 10},
			},
			staff: map[string]map[string]any{"junior": {"level": 1.0}},
			steps: []step{{0, "billing", 1}, {10 * time.Second, "overflow", 1}},
		},
		{
			name: "a target with an available worker is not skipped",
			targets: []backend.WorkflowTarget{
				{QueueID: "vip", SkipIfNoWorkers: true, TimeoutSeconds: 10},
				{QueueID: "billing"},
			},
			staff: map[string]map[string]any{"senior": {"level": 3.0}},
			steps: []step{{0, "vip", 1}},
		},
		{
			name: "the target expression narrows the queue",
			targets: []backend.WorkflowTarget{
				{QueueID: "sales", Expression: `worker.level >= 3`, TimeoutSeconds: 20},
				{QueueID: "sales"},
			},
			steps: []step{{0, "sales", 1}, {20 * time.Second, "sales", 1}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, q := contactCenter(t)
			// Staff only unavailable-for-routing workers, so tasks keep waiting.
			for name, attrs := range tc.staff {
				h.worker(name, attrs, backend.ActivityAvailable)
			}
			targets := append([]backend.WorkflowTarget(nil), tc.targets...)
			for i := range targets {
				targets[i].QueueID = q[targets[i].QueueID]
			}
			h.workflow(backend.Workflow{
				Name:    "w",
				Filters: []backend.WorkflowFilter{{Name: "all", Expression: "true", Targets: targets}},
				Default: []backend.WorkflowTarget{{QueueID: q["overflow"], TimeoutSeconds: 5}},
			})
			// Occupy the staff so nothing is assigned and the task keeps moving.
			task := h.task(backend.TaskInput{Channel: "voice", Priority: 1, Attributes: map[string]any{"language": "es"}})
			if r := h.offerOf(task.ID); r != nil {
				if _, err := h.e.SetWorkerActivity(h.ctx, r.WorkerID, backend.ActivityBreak); err != nil {
					t.Fatal(err)
				}
			}
			for i, s := range tc.steps {
				h.clock.Advance(s.after)
				got := h.get(task.ID)
				if got.QueueID != q[s.queue] || got.Priority != s.prio {
					t.Fatalf("step %d: in %s at priority %d, want %s at %d", i, got.QueueID, got.Priority, q[s.queue], s.prio)
				}
				h.check()
			}
		})
	}
}

func TestEscalation_AfterRejectedOffer(t *testing.T) {
	h, q := contactCenter(t)
	h.worker("sam", map[string]any{"skills": []any{"sales"}}, backend.ActivityAvailable)
	h.workflow(backend.Workflow{
		Name:    "w",
		Filters: []backend.WorkflowFilter{{Name: "all", Expression: "true", Targets: []backend.WorkflowTarget{{QueueID: q["sales"], TimeoutSeconds: 10}}}},
		Default: []backend.WorkflowTarget{{QueueID: q["overflow"]}},
	})
	task := h.task(backend.TaskInput{Channel: "voice"})
	r := h.offerOf(task.ID)
	h.clock.Advance(15 * time.Second) // the target expires while the offer stands
	if got := h.get(task.ID); got.State != backend.TaskReserved || got.QueueID != q["sales"] {
		t.Fatalf("task %s in %s while offered", got.State, got.QueueID)
	}
	if _, err := h.e.RejectReservation(h.ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if got := h.get(task.ID); got.QueueID != q["overflow"] {
		t.Fatalf("task stayed in %s after its target expired", got.QueueID)
	}
	h.check()
}

func TestTransfer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		to      func(q map[string]string) backend.TransferTarget
		code    string
		wantTo  string // who is offered it after the transfer
		decline bool   // the new worker declines
		wantAt  string // queue after the transfer (and decline)
	}{
		{name: "to a worker", to: func(map[string]string) backend.TransferTarget { return backend.TransferTarget{WorkerID: "bea"} }, wantTo: "bea", wantAt: "sales"},
		{name: "to a worker who declines", to: func(map[string]string) backend.TransferTarget { return backend.TransferTarget{WorkerID: "bea"} }, decline: true, wantAt: "sales"},
		{name: "to a queue", to: func(q map[string]string) backend.TransferTarget { return backend.TransferTarget{QueueID: q["billing"]} }, wantTo: "bea", wantAt: "billing"},
		{name: "to an unknown worker", to: func(map[string]string) backend.TransferTarget { return backend.TransferTarget{WorkerID: "zed"} }, code: backend.ENotFound},
		{name: "to a busy worker", to: func(map[string]string) backend.TransferTarget { return backend.TransferTarget{WorkerID: "cal"} }, code: backend.EConflict},
		{name: "to both", to: func(q map[string]string) backend.TransferTarget {
			return backend.TransferTarget{WorkerID: "bea", QueueID: q["billing"]}
		}, code: backend.EInvalid},
		{name: "to the same worker", to: func(map[string]string) backend.TransferTarget { return backend.TransferTarget{WorkerID: "al"} }, code: backend.EInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, q := contactCenter(t)
			h.worker("al", map[string]any{"skills": []any{"sales"}}, backend.ActivityAvailable)
			task := h.task(backend.TaskInput{Channel: "voice", QueueID: q["sales"]})
			h.accept(h.offerOf(task.ID))
			h.worker("bea", map[string]any{"skills": []any{"billing"}}, backend.ActivityAvailable)
			h.worker("cal", map[string]any{"skills": []any{"billing"}}, backend.ActivityBreak)
			_, err := h.e.TransferTask(h.ctx, task.ID, tc.to(q))
			if tc.code != "" {
				wantCode(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			h.check()
			if st, _ := h.e.WorkerStats(h.ctx, "al"); st.Load["voice"] != 0 {
				t.Fatalf("al still holds %v", st.Load)
			}
			if tc.decline {
				if _, err := h.e.RejectReservation(h.ctx, h.offerOf(task.ID).ID); err != nil {
					t.Fatal(err)
				}
			}
			if got := offeredTo(h, task.ID); got != tc.wantTo {
				t.Fatalf("offered to %q, want %q", got, tc.wantTo)
			}
			got := h.get(task.ID)
			if got.QueueID != q[tc.wantAt] {
				t.Fatalf("task in %s, want %s", got.QueueID, q[tc.wantAt])
			}
			if tc.wantTo != "" {
				h.accept(h.offerOf(task.ID))
				qs, _ := h.e.QueueStats(h.ctx, got.QueueID)
				if qs.Answered != 0 && tc.wantAt == "billing" {
					t.Fatalf("a transferred task counted as answered again: %+v", qs.RoutingCounters)
				}
			}
			h.check()
		})
	}
}

func TestWrapUp(t *testing.T) {
	for _, tc := range []struct {
		name             string
		wrap             bool
		wrapDisp, endDis string
		wantDisp         string
	}{
		{"complete without wrap-up", false, "", "resolved", "resolved"},
		{"wrap-up disposition kept", true, "sale", "", "sale"},
		{"completion overrides the disposition", true, "sale", "refund", "refund"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := MustStart(t, routing.Options{})
			q := h.queue(backend.Queue{Name: "all"})
			h.worker("w", nil, backend.ActivityAvailable)
			first := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
			second := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
			h.clock.Advance(5 * time.Second)
			h.accept(h.offerOf(first.ID))
			h.clock.Advance(100 * time.Second)
			if tc.wrap {
				got, err := h.e.WrapUp(h.ctx, first.ID, tc.wrapDisp)
				if err != nil {
					t.Fatal(err)
				}
				if got.State != backend.TaskWrapping {
					t.Fatalf("state %s", got.State)
				}
				// Wrapping still holds the worker's only voice slot.
				if r := h.offerOf(second.ID); r != nil {
					t.Fatal("offered a call while wrapping up")
				}
				_, err = h.e.WrapUp(h.ctx, first.ID, "again")
				wantCode(t, err, backend.EConflict)
				h.clock.Advance(20 * time.Second)
			}
			got, err := h.e.CompleteTask(h.ctx, first.ID, tc.endDis)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != backend.TaskCompleted || got.Disposition != tc.wantDisp {
				t.Fatalf("task %s %q, want completed %q", got.State, got.Disposition, tc.wantDisp)
			}
			if offeredTo(h, second.ID) != "w" {
				t.Fatal("the next call was not offered after completion")
			}
			h.check()
			qs, _ := h.e.QueueStats(h.ctx, q.ID)
			wantHandle := 100.0
			if tc.wrap {
				wantHandle = 120
			}
			if qs.Completed != 1 || qs.AvgHandleSeconds != wantHandle || qs.AvgWaitSeconds != 5 || qs.SLAPercent != 100 {
				t.Fatalf("stats %+v", qs)
			}
			_, err = h.e.CompleteTask(h.ctx, first.ID, "")
			wantCode(t, err, backend.ENotFound)
		})
	}
}

func TestQueueStats(t *testing.T) {
	h := MustStart(t, routing.Options{})
	q := h.queue(backend.Queue{Name: "sales", TargetWorkers: `"sales" in worker.skills`, SLASeconds: 10})
	h.worker("s1", map[string]any{"skills": []any{"sales"}}, backend.ActivityAvailable)
	h.worker("s2", map[string]any{"skills": []any{"sales"}}, backend.ActivityBreak)
	h.worker("x", map[string]any{"skills": []any{"tech"}}, backend.ActivityAvailable)
	fast := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
	slow := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
	gone := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
	h.clock.Advance(4 * time.Second)
	h.accept(h.offerOf(fast.ID))
	h.clock.Advance(30 * time.Second)
	qs, _ := h.e.QueueStats(h.ctx, q.ID)
	if qs.Tasks["pending"] != 2 || qs.Tasks["assigned"] != 1 || qs.LongestWaitSeconds != 34 || qs.EligibleWorkers != 2 || qs.AvailableWorkers != 1 {
		t.Fatalf("live stats %+v", qs)
	}
	h.e.CompleteTask(h.ctx, fast.ID, "")
	h.accept(h.offerOf(slow.ID))
	h.e.CancelTask(h.ctx, gone.ID, "abandoned")
	qs, _ = h.e.QueueStats(h.ctx, q.ID)
	// Answered 2 (one in 4 s, one in 34 s), one canceled: 1 of 3 within 10 s.
	if qs.Answered != 2 || qs.Canceled != 1 || qs.WithinSLA != 1 || qs.AvgWaitSeconds != 19 || int(qs.SLAPercent) != 33 {
		t.Fatalf("cumulative stats %+v", qs)
	}
	if h.store.events[backend.EventQueueStats] == 0 || h.store.events[backend.EventWorkerStats] == 0 {
		t.Fatalf("no stats events: %v", h.store.events)
	}
	// Counters survive a restart.
	h.restart()
	qs2, _ := h.e.QueueStats(h.ctx, q.ID)
	if qs2.RoutingCounters != qs.RoutingCounters {
		t.Fatalf("after restart %+v, before %+v", qs2.RoutingCounters, qs.RoutingCounters)
	}
}
