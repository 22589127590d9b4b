package routing_test

import (
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/backend/routing"
)

func TestTranslateTaskRouterExpression(t *testing.T) {
	for _, tc := range []struct{ in, bare, want string }{
		{`type == 'sales'`, "task", `task.type == "sales"`},
		{`customer_value == 'Gold' AND type == 'ticket'`, "task", `task.customer_value == "Gold" and task.type == "ticket"`},
		{`language IN ['en', 'es'] OR vip == true`, "task", `task.language in [ "en" , "es" ] or task.vip == true`},
		{`task.language IN worker.languages`, "", `task.language in worker.languages`},
		{`worker.skills HAS 'billing'`, "", `"billing" in worker.skills`},
		{`skills HAS "billing" AND level > 2`, "worker", `"billing" in worker.skills and worker.level > 2`},
		{`language NOT IN ['fr']`, "task", `task.language not in [ "fr" ]`},
		{`1==1`, "task", `1 == 1`},
		{`name CONTAINS 'bob'`, "task", `task.name contains "bob"`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got := routing.TranslateTaskRouterExpression(tc.in, tc.bare)
			if got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			if err := routing.ValidateExpression(got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

const taskRouterJSON = `{
  "task_routing": {
    "filters": [
      {
        "filter_friendly_name": "Gold Tickets",
        "expression": "customer_value == 'Gold' AND type == 'ticket'",
        "targets": [
          {"queue": "WQ111", "priority": 2, "timeout": 300, "expression": "task.language IN worker.languages"},
          {"queue": "WQ222", "skip_if": "workers.available == 0", "order_by": "worker.level DESC"}
        ]
      },
      {
        "filter_friendly_name": "Spanish",
        "expression": "language == 'es'",
        "targets": [{"queue": "WQ333", "known_worker_sid": "WK1"}]
      }
    ],
    "default_filter": {"queue": "WQ222"}
  }
}`

func TestImportTaskRouterWorkflow(t *testing.T) {
	h := MustStart(t, routing.Options{})
	ids := map[string]string{}
	for sid, name := range map[string]string{"WQ111": "gold", "WQ222": "everyone", "WQ333": "spanish"} {
		ids[sid] = h.queue(backend.Queue{Name: name}).ID
	}
	wf, notes, err := routing.ImportTaskRouterWorkflow([]byte(taskRouterJSON), "imported", ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(wf.Filters) != 2 || len(wf.Filters[0].Targets) != 2 || len(wf.Default) != 1 {
		t.Fatalf("workflow %+v", wf)
	}
	gold := wf.Filters[0]
	if gold.Expression != `task.customer_value == "Gold" and task.type == "ticket"` ||
		gold.Targets[0].QueueID != ids["WQ111"] || *gold.Targets[0].Priority != 2 || gold.Targets[0].TimeoutSeconds != 300 ||
		gold.Targets[0].Expression != "task.language in worker.languages" || !gold.Targets[1].SkipIfNoWorkers {
		t.Fatalf("gold filter %+v", gold)
	}
	if len(notes) != 2 || !strings.Contains(notes[0], "order_by") || !strings.Contains(notes[1], "known-worker") {
		t.Fatalf("notes %q", notes)
	}
	saved := h.workflow(*wf)
	task := h.task(backend.TaskInput{Channel: "chat", WorkflowID: saved.ID, Attributes: map[string]any{"customer_value": "Gold", "type": "ticket"}})
	if task.Filter != "Gold Tickets" || task.QueueID != ids["WQ111"] || task.Priority != 2 {
		t.Fatalf("task routed to %q %s priority %d", task.Filter, task.QueueID, task.Priority)
	}

	for _, tc := range []struct{ name, json string }{
		{"not json", `{`},
		{"no default", `{"task_routing": {"filters": []}}`},
		{"unmapped queue", `{"task_routing": {"default_filter": {"queue": "WQ999"}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := routing.ImportTaskRouterWorkflow([]byte(tc.json), "x", ids)
			wantCode(t, err, backend.EInvalid)
		})
	}
}
