package app

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"switchboard/backend"
	"switchboard/backend/server"
)

// TestSupervisor_QueueAlertNotifiesOncePerCrossing signs in as the demo's
// admin: a queue nobody serves turns red at two waiting tasks, which
// raises one "queueAlert" event and one real D-Bus desktop notification;
// a third waiting task (still red) raises nothing more; once back under its
// threshold, crossing again notifies again.
func TestSupervisor_QueueAlertNotifiesOncePerCrossing(t *testing.T) {
	requireKeyring(t)
	notes := serveNotifications(t)
	a := newTestApp(t, t.TempDir())
	var mu sync.Mutex
	var alerts []QueueAlert
	waiting := -1 // the queue's waiting tasks on the last live view
	a.setEmitter(func(name string, data any) {
		mu.Lock()
		defer mu.Unlock()
		switch d := data.(type) {
		case QueueAlert:
			if d.Name == "Escalations" {
				alerts = append(alerts, d)
			}
		case *backend.LiveView:
			for _, q := range d.Queues {
				if q.Name == "Escalations" {
					waiting = q.Waiting
				}
			}
		}
	})
	if _, err := a.SignIn(SignInRequest{Email: "admin@example.com", Password: server.DemoPassword}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := a.engine.Routing
	q, err := r.UpsertQueue(ctx, &backend.Queue{Name: "Escalations", TargetWorkers: "false", AlertWaiting: 2, AlertWaitSeconds: 3600})
	if err != nil {
		t.Fatal(err)
	}
	task := func() *backend.Task {
		tk, err := r.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelChat, QueueID: q.ID})
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	shown := func(n int) {
		t.Helper()
		eventually(t, "a live view with the waiting tasks", func() bool { mu.Lock(); defer mu.Unlock(); return waiting == n })
	}
	mine := func() []string {
		return slices.DeleteFunc(notes.all(), func(n string) bool { return !strings.Contains(n, "Escalations") })
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(alerts) }

	task()
	shown(1)
	if count() != 0 || len(mine()) != 0 {
		t.Fatalf("one waiting task alerted: %v %v", alerts, mine())
	}
	second := task()
	shown(2)
	eventually(t, "the desktop notification", func() bool { return len(mine()) == 1 })
	if n := mine()[0]; n != "Queue Escalations needs attention | Past its threshold: waiting tasks" {
		t.Fatalf("notification = %q", n)
	}
	mu.Lock()
	if len(alerts) != 1 || alerts[0].QueueID != q.ID || !slices.Equal(alerts[0].Alert, []string{"waiting"}) {
		t.Fatalf("alerts = %+v", alerts)
	}
	mu.Unlock()

	third := task()
	shown(3)
	for _, tk := range []*backend.Task{second, third} {
		if _, err := r.CancelTask(ctx, tk.ID, "test"); err != nil {
			t.Fatal(err)
		}
	}
	shown(1)
	if count() != 1 || len(mine()) != 1 {
		t.Fatalf("staying red alerted again: %d events, notifications %v", count(), mine())
	}
	task()
	shown(2)
	eventually(t, "a second notification", func() bool { return len(mine()) == 2 })
	if count() != 2 {
		t.Fatalf("alert events = %d, want 2", count())
	}
}

// TestAlertWords_Spanish: the notification follows the app's language.
func TestAlertWords_Spanish(t *testing.T) {
	if w := alertWordsFor("es_MX.UTF-8"); w.title != "La cola %s necesita atención" || w.what["waiting"] != "tareas en espera" {
		t.Fatalf("es = %+v", w)
	}
	if w := alertWordsFor(""); w.what["longest wait"] != "longest wait" {
		t.Fatalf("default = %+v", w)
	}
}
