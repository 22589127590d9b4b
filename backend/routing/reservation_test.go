package routing_test

import (
	"slices"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/routing"
)

// staffed returns a harness with one queue (everyone) and workers a, b, c
// made available in that order, a second apart, so a is the longest idle.
func staffed(t *testing.T, opts routing.Options, q backend.Queue) (*harness, *backend.Queue) {
	h := MustStart(t, opts)
	if q.Name == "" {
		q.Name = "all"
	}
	queue := h.queue(q)
	for i, name := range []string{"a", "b", "c"} {
		h.worker(name, map[string]any{"level": float64(i + 1), "skills": []any{"sales"}}, backend.ActivityAvailable)
		h.clock.Advance(time.Second)
	}
	return h, queue
}

func offeredTo(h *harness, taskID string) string {
	if r := h.offerOf(taskID); r != nil {
		return r.WorkerID
	}
	return ""
}

func TestReservations(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"longest idle worker first", func(t *testing.T) {
			h, q := staffed(t, routing.Options{}, backend.Queue{})
			task := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
			if got := offeredTo(h, task.ID); got != "a" {
				t.Fatalf("offered to %q, want a", got)
			}
		}},
		{"ordered by a worker attribute", func(t *testing.T) {
			h, q := staffed(t, routing.Options{}, backend.Queue{OrderBy: "level"})
			task := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
			if got := offeredTo(h, task.ID); got != "c" {
				t.Fatalf("offered to %q, want c (level 3)", got)
			}
		}},
		{"ordered by a worker attribute ascending", func(t *testing.T) {
			h, q := staffed(t, routing.Options{}, backend.Queue{OrderBy: "level", OrderAscending: true})
			task := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
			if got := offeredTo(h, task.ID); got != "a" {
				t.Fatalf("offered to %q, want a (level 1)", got)
			}
		}},
		{"reject offers the next worker and not the same one before the cool-down", func(t *testing.T) {
			h, q := staffed(t, routing.Options{}, backend.Queue{})
			task := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
			var order []string
			for range 3 {
				r := h.offerOf(task.ID)
				order = append(order, r.WorkerID)
				if _, err := h.e.RejectReservation(h.ctx, r.ID); err != nil {
					t.Fatal(err)
				}
				h.check()
			}
			if !slices.Equal(order, []string{"a", "b", "c"}) {
				t.Fatalf("offered to %v", order)
			}
			if got := h.get(task.ID); got.State != backend.TaskPending || len(got.RejectedBy) != 3 {
				t.Fatalf("task = %s rejected by %v", got.State, got.RejectedBy)
			}
			h.e.SetWorkerActivity(h.ctx, "a", backend.ActivityBreak)
			h.e.SetWorkerActivity(h.ctx, "a", backend.ActivityAvailable)
			if r := h.offerOf(task.ID); r != nil {
				t.Fatalf("offered again to %s", r.WorkerID)
			}
			d := h.worker("d", nil, backend.ActivityAvailable)
			if got := offeredTo(h, task.ID); got != d.ID {
				t.Fatalf("offered to %q, want the new worker", got)
			}
		}},
		{"timeout offers the next worker and parks the first", func(t *testing.T) {
			h, q := staffed(t, routing.Options{ReservationTimeout: 15 * time.Second, TimeoutActivity: backend.ActivityOffline}, backend.Queue{})
			task := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
			h.clock.Advance(14 * time.Second)
			if got := offeredTo(h, task.ID); got != "a" {
				t.Fatalf("offered to %q before the timeout", got)
			}
			h.clock.Advance(time.Second)
			h.check()
			if got := offeredTo(h, task.ID); got != "b" {
				t.Fatalf("offered to %q after the timeout, want b", got)
			}
			a, _ := h.e.Worker(h.ctx, "a")
			if a.Activity != backend.ActivityOffline || a.Available {
				t.Fatalf("a is %s", a.Activity)
			}
			st, _ := h.e.WorkerStats(h.ctx, "a")
			if st.TimedOut != 1 || st.Offered != 1 {
				t.Fatalf("a stats %+v", st.RoutingCounters)
			}
		}},
		{"going offline rescinds pending offers", func(t *testing.T) {
			h, q := staffed(t, routing.Options{}, backend.Queue{})
			task := h.task(backend.TaskInput{Channel: "chat", QueueID: q.ID})
			if _, err := h.e.SetWorkerActivity(h.ctx, "a", backend.ActivityOffline); err != nil {
				t.Fatal(err)
			}
			h.check()
			if got := offeredTo(h, task.ID); got != "b" {
				t.Fatalf("offered to %q, want b", got)
			}
			// a did not reject: back online, a may get it again later.
			if got := h.get(task.ID); len(got.RejectedBy) != 0 {
				t.Fatalf("rejected by %v", got.RejectedBy)
			}
		}},
		{"capacity per channel", func(t *testing.T) {
			h := MustStart(t, routing.Options{})
			q := h.queue(backend.Queue{Name: "all"})
			h.worker("solo", nil, backend.ActivityAvailable)
			for range 5 {
				h.task(backend.TaskInput{Channel: backend.ChannelChat, QueueID: q.ID})
			}
			for range 2 {
				h.task(backend.TaskInput{Channel: backend.ChannelVoice, QueueID: q.ID})
			}
			h.check()
			load := map[string]int{}
			for _, r := range h.offers("solo") {
				load[r.Channel]++
			}
			if load["chat"] != 3 || load["voice"] != 1 {
				t.Fatalf("load = %v, want 3 chats and 1 call", load)
			}
			// Raising the chat capacity offers more at once.
			if _, err := h.e.UpsertWorker(h.ctx, &backend.Worker{ID: "solo", Name: "solo", Capacity: map[string]int{"chat": 5, "voice": 1}}); err != nil {
				t.Fatal(err)
			}
			h.check()
			load = map[string]int{}
			for _, r := range h.offers("solo") {
				load[r.Channel]++
			}
			if load["chat"] != 5 {
				t.Fatalf("load = %v after raising capacity", load)
			}
		}},
		{"higher priority first, then oldest", func(t *testing.T) {
			h := MustStart(t, routing.Options{})
			q := h.queue(backend.Queue{Name: "all"})
			h.worker("w", nil, backend.ActivityOffline)
			var ids []string
			for _, p := range []int{0, 5, 0, 5, 9} {
				ids = append(ids, h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID, Priority: p}).ID)
				h.clock.Advance(time.Second)
			}
			want := []string{ids[4], ids[1], ids[3], ids[0], ids[2]}
			h.e.SetWorkerActivity(h.ctx, "w", backend.ActivityAvailable)
			var got []string
			for range want {
				r := h.offers("w")[0]
				got = append(got, r.TaskID)
				h.accept(r)
				if _, err := h.e.CompleteTask(h.ctx, r.TaskID, ""); err != nil {
					t.Fatal(err)
				}
				h.check()
			}
			if !slices.Equal(got, want) {
				t.Fatalf("order %v, want %v", got, want)
			}
		}},
		{"LIFO hands out the newest first", func(t *testing.T) {
			h := MustStart(t, routing.Options{})
			q := h.queue(backend.Queue{Name: "all", LIFO: true})
			h.worker("w", nil, backend.ActivityOffline)
			var ids []string
			for range 3 {
				ids = append(ids, h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID}).ID)
				h.clock.Advance(time.Second)
			}
			h.e.SetWorkerActivity(h.ctx, "w", backend.ActivityAvailable)
			if got := h.offers("w")[0].TaskID; got != ids[2] {
				t.Fatalf("offered %s, want the newest %s", got, ids[2])
			}
		}},
		{"accepting twice conflicts", func(t *testing.T) {
			h, q := staffed(t, routing.Options{}, backend.Queue{})
			task := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
			r := h.offerOf(task.ID)
			h.accept(r)
			_, err := h.e.AcceptReservation(h.ctx, r.ID)
			wantCode(t, err, backend.EConflict)
			_, err = h.e.RejectReservation(h.ctx, "res_nope")
			wantCode(t, err, backend.ENotFound)
			_, err = h.e.CancelTask(h.ctx, task.ID, "left")
			wantCode(t, err, backend.EConflict)
		}},
		{"cancel while offered frees the worker", func(t *testing.T) {
			h := MustStart(t, routing.Options{})
			q := h.queue(backend.Queue{Name: "all"})
			h.worker("w", nil, backend.ActivityAvailable)
			first := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
			second := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID})
			got, err := h.e.CancelTask(h.ctx, first.ID, "customer hung up")
			if err != nil {
				t.Fatal(err)
			}
			if got.State != backend.TaskCanceled || got.Reason != "customer hung up" {
				t.Fatalf("task %s %q", got.State, got.Reason)
			}
			h.check()
			if offeredTo(h, second.ID) != "w" {
				t.Fatal("second task not offered after the first was canceled")
			}
			if stored := h.get(first.ID); stored.State != backend.TaskCanceled {
				t.Fatalf("stored task is %s", stored.State)
			}
		}},
	} {
		t.Run(tc.name, tc.run)
	}
}

func TestQueueTargets(t *testing.T) {
	workers := map[string]map[string]any{
		"ana":  {"skills": []any{"billing"}, "languages": []any{"en", "es"}, "level": 2.0},
		"ben":  {"skills": []any{"billing", "tech"}, "languages": []any{"en"}, "level": 3.0},
		"cleo": {"skills": []any{"tech"}, "languages": []any{"fr"}, "level": 1.0},
	}
	for _, tc := range []struct {
		name   string
		target string
		task   map[string]any
		want   []string // who may be offered the task
	}{
		{"everyone", "", nil, []string{"ana", "ben", "cleo"}},
		{"billing", `"billing" in worker.skills`, nil, []string{"ana", "ben"}},
		{"billing in spanish", `"billing" in worker.skills && task.language in worker.languages`, map[string]any{"language": "es"}, []string{"ana"}},
		{"tech in french", `"tech" in worker.skills && task.language in worker.languages`, map[string]any{"language": "fr"}, []string{"cleo"}},
		{"nobody speaks german", `task.language in worker.languages`, map[string]any{"language": "de"}, nil},
		{"senior", `worker.level >= 2`, nil, []string{"ana", "ben"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := MustStart(t, routing.Options{})
			q := h.queue(backend.Queue{Name: "q", TargetWorkers: tc.target})
			for name, attrs := range workers {
				h.worker(name, attrs, backend.ActivityAvailable)
			}
			task := h.task(backend.TaskInput{Channel: "voice", QueueID: q.ID, Attributes: tc.task})
			var got []string
			for {
				r := h.offerOf(task.ID)
				if r == nil {
					break
				}
				got = append(got, r.WorkerID)
				if _, err := h.e.RejectReservation(h.ctx, r.ID); err != nil {
					t.Fatal(err)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("offered to %v, want %v", got, tc.want)
			}
			h.check()
		})
	}
}

func TestUpsertQueue_BadExpression(t *testing.T) {
	h := MustStart(t, routing.Options{})
	_, err := h.e.UpsertQueue(h.ctx, &backend.Queue{Name: "bad", TargetWorkers: `worker.skills has "x"`})
	wantCode(t, err, backend.EInvalid)
	h.queue(backend.Queue{Name: "dup"})
	_, err = h.e.UpsertQueue(h.ctx, &backend.Queue{Name: "DUP"})
	wantCode(t, err, backend.EConflict)
}
