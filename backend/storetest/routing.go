package storetest

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"switchboard/backend"
)

func routingFixture(now time.Time) *backend.RoutingChange {
	prio := 4
	return &backend.RoutingChange{
		Activities: []*backend.Activity{{Name: "Available", Available: true, CreatedAt: now, UpdatedAt: now}, {Name: "Offline", CreatedAt: now, UpdatedAt: now}},
		Workers: []*backend.Worker{{ID: "wk_1", UserID: "usr_1", Name: "Ana", Attributes: map[string]any{"skills": []any{"billing"}, "level": 2.0},
			Activity: "Available", Available: true, Capacity: map[string]int{"chat": 2}, IdleSince: now, ActivityChangedAt: now, CreatedAt: now, UpdatedAt: now}},
		Queues: []*backend.Queue{{ID: "q_1", Name: "Billing", TargetWorkers: `"billing" in worker.skills`, OrderBy: "level", SLASeconds: 30, CreatedAt: now, UpdatedAt: now}},
		Workflows: []*backend.Workflow{{ID: "wf_1", Name: "main", Filters: []backend.WorkflowFilter{{Name: "vip", Expression: "task.vip",
			Targets: []backend.WorkflowTarget{{QueueID: "q_1", Priority: &prio, TimeoutSeconds: 10, SkipIfNoWorkers: true}}}},
			Default: []backend.WorkflowTarget{{QueueID: "q_1"}}, CreatedAt: now, UpdatedAt: now}},
		Tasks: []*backend.Task{
			{ID: "task_1", Channel: "chat", Attributes: map[string]any{"vip": true}, Priority: 4, ConversationID: "conv_1", State: backend.TaskReserved,
				WorkflowID: "wf_1", Filter: "vip", QueueID: "q_1", TargetExpiresAt: now.Add(10 * time.Second), WorkerID: "wk_1",
				RejectedBy: []string{"wk_0"}, RetryAt: now.Add(45 * time.Second), CreatedAt: now, UpdatedAt: now},
			{ID: "task_2", Channel: "voice", Attributes: map[string]any{}, State: backend.TaskCompleted, QueueID: "q_1", Disposition: "sale",
				CreatedAt: now, AssignedAt: now, WrapUpAt: now, WrapUpEndsAt: now.Add(time.Minute), EndedAt: now, UpdatedAt: now},
		},
		Reservations: []*backend.Reservation{{ID: "res_1", TaskID: "task_1", WorkerID: "wk_1", Channel: "chat", QueueID: "q_1",
			State: backend.ReservationPending, ExpiresAt: now.Add(30 * time.Second), CreatedAt: now, UpdatedAt: now}},
		QueueStats:  []*backend.QueueStats{{QueueID: "q_1", Tasks: map[string]int{"reserved": 1}, RoutingCounters: backend.RoutingCounters{Offered: 3, Answered: 1, WaitMillis: 1500}}},
		WorkerStats: []*backend.WorkerStats{{WorkerID: "wk_1", RoutingCounters: backend.RoutingCounters{Offered: 3, Rejected: 1}}},
		MissedOffers: []*backend.MissedOffer{{ReservationID: "res_0", TaskID: "task_1", WorkerID: "wk_0", ConversationID: "conv_1",
			Channel: "chat", QueueID: "q_1", OfferedAt: now.Add(-30 * time.Second), ExpiredAt: now}},
	}
}

func testRoutingSaveAndLoad(t *testing.T, h harness) {
	db := h.open(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.UTC)
	c := routingFixture(now)
	if err := db.SaveRouting(ctx, c); err != nil {
		t.Fatal(err)
	}
	snap, err := db.LoadRouting(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, pair := range map[string][2]any{
		"activities":   {c.Activities, snap.Activities},
		"workers":      {c.Workers, snap.Workers},
		"queues":       {c.Queues, snap.Queues},
		"workflows":    {c.Workflows, snap.Workflows},
		"open tasks":   {c.Tasks[:1], snap.Tasks},
		"reservations": {c.Reservations, snap.Reservations},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			a, _ := json.Marshal(pair[0])
			b, _ := json.Marshal(pair[1])
			t.Errorf("%s:\nsaved  %s\nloaded %s", name, a, b)
		}
	}
	if snap.QueueCounters["q_1"] != c.QueueStats[0].RoutingCounters || snap.WorkerCounters["wk_1"] != c.WorkerStats[0].RoutingCounters {
		t.Errorf("counters %+v %+v", snap.QueueCounters, snap.WorkerCounters)
	}
	done, err := db.FindTask(ctx, "task_2")
	if err != nil || done.Disposition != "sale" || done.State != backend.TaskCompleted || !done.WrapUpEndsAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("find ended task: %+v %v", done, err)
	}
	if _, err := db.FindTask(ctx, "task_9"); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("find missing task: %v", err)
	}
	// Every entity and stats row went out on the change feed.
	events, err := db.EventsSince(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, e := range events {
		types[e.Type]++
	}
	want := map[string]int{backend.EventActivityUpserted: 2, backend.EventWorkerUpserted: 1, backend.EventQueueUpserted: 1,
		backend.EventWorkflowUpserted: 1, backend.EventTaskUpserted: 2, backend.EventReservationUpserted: 1,
		backend.EventQueueStats: 1, backend.EventWorkerStats: 1, backend.EventOfferMissed: 1}
	if !reflect.DeepEqual(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	for _, e := range events {
		var m backend.MissedOffer
		if e.Type == backend.EventOfferMissed && (json.Unmarshal(e.Data, &m) != nil || !reflect.DeepEqual(&m, c.MissedOffers[0]) || e.EntityID != "res_0") {
			t.Fatalf("missed-offer event %s: %s", e.EntityID, e.Data)
		}
	}
}

func testRoutingOneActiveReservation(t *testing.T, h harness) {
	db := h.open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	if err := db.SaveRouting(ctx, routingFixture(now)); err != nil {
		t.Fatal(err)
	}
	seq, _ := db.LastSeq(ctx)
	second := &backend.Reservation{ID: "res_2", TaskID: "task_1", WorkerID: "wk_1", Channel: "chat", QueueID: "q_1",
		State: backend.ReservationPending, ExpiresAt: now, CreatedAt: now, UpdatedAt: now}
	err := db.SaveRouting(ctx, &backend.RoutingChange{Reservations: []*backend.Reservation{second}})
	if backend.ErrorCode(err) != backend.EConflict {
		t.Fatalf("second active reservation: %v, want conflict", err)
	}
	if after, _ := db.LastSeq(ctx); after != seq {
		t.Fatal("a refused change appended events")
	}
	// Ending the first and starting the second in one change is fine,
	// in whichever order the change lists them.
	first := routingFixture(now).Reservations[0]
	first.State = backend.ReservationRejected
	if err := db.SaveRouting(ctx, &backend.RoutingChange{Reservations: []*backend.Reservation{second, first}}); err != nil {
		t.Fatal(err)
	}
	snap, _ := db.LoadRouting(ctx)
	if len(snap.Reservations) != 1 || snap.Reservations[0].ID != "res_2" {
		t.Fatalf("active reservations %+v", snap.Reservations)
	}
}

func testRoutingWorkerUserIsUnique(t *testing.T, h harness) {
	db := h.open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	c := routingFixture(now)
	if err := db.SaveRouting(ctx, c); err != nil {
		t.Fatal(err)
	}
	w := *c.Workers[0]
	w.ID = "wk_2"
	err := db.SaveRouting(ctx, &backend.RoutingChange{Workers: []*backend.Worker{&w}})
	if backend.ErrorCode(err) != backend.EConflict {
		t.Fatalf("second worker for one user: %v", err)
	}
}
