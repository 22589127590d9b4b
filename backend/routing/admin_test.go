package routing_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/routing"
)

// TestRemoveAndPreview: queues, workflows and workers an admin removes
// leave routing (and stay gone after a restart) unless something still
// depends on them; a target expression previews the workers it matches;
// tasks that name no workflow go to the oldest.
func TestRemoveAndPreview(t *testing.T) {
	ctx := context.Background()
	clock := routing.NewFakeClock(t0)
	db := MustOpenDB(t, filepath.Join(t.TempDir(), "engine.db"), clock)
	start := func() *routing.Engine {
		e := routing.New(db, routing.Options{Clock: clock})
		routing.EnableDebug(e)
		if err := e.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	e := start()
	mustQ := func(q *backend.Queue) *backend.Queue {
		t.Helper()
		out, err := e.UpsertQueue(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	es := mustQ(&backend.Queue{Name: "Spanish", TargetWorkers: `"es" in worker.languages`})
	en := mustQ(&backend.Queue{Name: "English", TargetWorkers: `"en" in worker.languages`})
	lola, err := e.UpsertWorker(ctx, &backend.Worker{Name: "Lola", Activity: backend.ActivityAvailable, Attributes: map[string]any{"languages": []any{"es", "en"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.UpsertWorker(ctx, &backend.Worker{Name: "Bob", Attributes: map[string]any{"languages": []any{"en"}}}); err != nil {
		t.Fatal(err)
	}
	got, err := e.MatchingWorkers(ctx, `"es" in worker.languages`)
	if err != nil || len(got) != 1 || got[0].Name != "Lola" {
		t.Fatalf("Spanish speakers %+v, %v", got, err)
	}
	if _, err := e.MatchingWorkers(ctx, `"es" in`); backend.ErrorCode(err) != backend.EInvalid {
		t.Fatalf("a broken expression: %v", err)
	}
	first, err := e.UpsertWorkflow(ctx, &backend.Workflow{Name: "First", Default: []backend.WorkflowTarget{{QueueID: es.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	second, err := e.UpsertWorkflow(ctx, &backend.Workflow{Name: "Second", Default: []backend.WorkflowTarget{{QueueID: en.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	task, err := e.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelChat})
	if err != nil || task.WorkflowID != first.ID {
		t.Fatalf("a task naming no workflow went to %+v, %v; want the oldest, %s", task, err, first.ID)
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"queue a workflow targets", e.DeleteQueue(ctx, en.ID)},
		{"queue with an open task", e.DeleteQueue(ctx, es.ID)},
		{"workflow with an open task", e.DeleteWorkflow(ctx, first.ID)},
		{"worker holding an offer", e.DeleteWorker(ctx, lola.ID)},
	} {
		if backend.ErrorCode(tc.err) != backend.EConflict {
			t.Errorf("%s: %v, want conflict", tc.name, tc.err)
		}
	}
	if _, err := e.CancelTask(ctx, task.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteWorkflow(ctx, second.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteWorkflow(ctx, first.ID); backend.ErrorCode(err) != backend.EConflict {
		t.Fatalf("removing the last workflow: %v", err)
	}
	for _, err := range []error{e.DeleteQueue(ctx, en.ID), e.DeleteWorker(ctx, lola.ID)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := e.DeleteQueue(ctx, "q_nope"); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("unknown queue: %v", err)
	}
	st, _ := e.QueueStats(ctx, es.ID)
	if st.EligibleWorkers != 0 || st.AvailableWorkers != 0 {
		t.Fatalf("the removed worker still counts in queue %s: %+v", es.Name, st)
	}
	e.Close()
	e2 := start()
	qs, _ := e2.Queues(ctx)
	ws, _ := e2.Workers(ctx)
	wfs, _ := e2.Workflows(ctx)
	if len(qs) != 1 || len(ws) != 1 || ws[0].Name != "Bob" || len(wfs) != 1 {
		t.Fatalf("after a restart: queues %d, workers %+v, workflows %d", len(qs), ws, len(wfs))
	}
}
