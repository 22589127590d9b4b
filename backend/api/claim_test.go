package api_test

import (
	"context"
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/backend/api"
)

// TestAPI_TakeAndAssign: an agent takes a task from a queue they serve, a
// supervisor assigns one to a named agent; capacity and conflicts are
// refused with a reason, and only supervisors and admins may assign.
func TestAPI_TakeAndAssign(t *testing.T) {
	ctx := context.Background()
	e := MustStartEngine(t)
	if err := e.DB.CreateUser(ctx, &backend.User{Name: "Sam", Email: "sup@example.com", Role: backend.RoleSupervisor}, "password1"); err != nil {
		t.Fatal(err)
	}
	r := MustStartRouting(t, e)
	users, _ := e.DB.FindUsers(ctx)
	for _, u := range users {
		if u.Email == "agent@example.com" {
			if _, err := r.UpsertWorker(ctx, &backend.Worker{ID: "wk_agent", UserID: u.ID, Name: "Agent", Activity: backend.ActivityBreak,
				Capacity: map[string]int{"chat": 1}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := r.UpsertWorker(ctx, &backend.Worker{ID: "wk_other", Name: "Other", Activity: backend.ActivityBreak}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []*backend.Queue{{ID: "q_support", Name: "Support"}, {ID: "q_vip", Name: "VIP", TargetWorkers: `"vip" in worker.skills`}} {
		if _, err := r.UpsertQueue(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	task := func(queue string) string {
		tk, err := r.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelChat, QueueID: queue})
		if err != nil {
			t.Fatal(err)
		}
		return tk.ID
	}
	agent, admin, sup := e.SignIn(t, "agent@example.com"), e.SignIn(t, "admin@example.com"), e.SignIn(t, "sup@example.com")
	first, second, vip, third := task("q_support"), task("q_support"), task("q_vip"), task("q_support")

	var res backend.Reservation
	var fail api.ErrorResponse
	for _, tc := range []struct {
		name, token, method, path, body string
		status                          int
		reason                          string
	}{
		{"agent takes a waiting task", agent, "POST", "/api/tasks/" + first + "/take", "", 200, ""},
		{"no room for a second chat", agent, "POST", "/api/tasks/" + second + "/take", "", 409, backend.ReasonNoCapacity},
		{"not from a queue the agent does not serve", agent, "POST", "/api/tasks/" + vip + "/take", "", 403, backend.ReasonNotInQueue},
		{"an admin who takes no tasks cannot take one", admin, "POST", "/api/tasks/" + second + "/take", "", 403, ""},
		{"an unknown task", agent, "POST", "/api/tasks/task_nope/take", "{}", 404, backend.ReasonTaskEnded},
		{"a body with fields is refused", agent, "POST", "/api/tasks/" + second + "/take", `{"workerId":"wk_other"}`, 400, ""},
		{"agents may not assign", agent, "POST", "/api/tasks/" + second + "/assign", `{"workerId":"wk_agent"}`, 403, ""},
		{"assign needs a worker", sup, "POST", "/api/tasks/" + second + "/assign", `{}`, 400, ""},
		{"assign respects capacity", sup, "POST", "/api/tasks/" + second + "/assign", `{"workerId":"wk_agent"}`, 409, backend.ReasonNoCapacity},
		{"a supervisor assigns to a named agent", sup, "POST", "/api/tasks/" + vip + "/assign", `{"workerId":"wk_other"}`, 200, ""},
		{"an assigned task is not assigned again", admin, "POST", "/api/tasks/" + first + "/assign", `{"workerId":"wk_other"}`, 409, backend.ReasonTaskTaken},
		{"an admin assigns too", admin, "POST", "/api/tasks/" + third + "/assign", `{"workerId":"wk_other"}`, 200, ""},
		{"to an unknown agent", admin, "POST", "/api/tasks/" + second + "/assign", `{"workerId":"wk_nope"}`, 404, ""},
		{"signed out", "", "POST", "/api/tasks/" + second + "/take", "", 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fail = api.ErrorResponse{}
			var out any = &fail
			if tc.status == 200 {
				out = &res
			}
			if st := e.Do(t, tc.token, tc.method, tc.path, tc.body, out); st != tc.status {
				t.Fatalf("status %d (%+v), want %d", st, fail, tc.status)
			}
			if tc.status != 200 && (fail.Error.Message == "" || fail.Error.Reason != tc.reason) {
				t.Fatalf("error %+v, want reason %q and a sentence", fail.Error, tc.reason)
			}
			if tc.status == 200 && res.State != backend.ReservationAccepted {
				t.Fatalf("reservation %+v", res)
			}
		})
	}
	if tk, _ := r.Task(ctx, first); tk.WorkerID != "wk_agent" || tk.State != backend.TaskAssigned {
		t.Fatalf("taken task: %+v", tk)
	}
	if tk, _ := r.Task(ctx, second); tk.State != backend.TaskPending {
		t.Fatalf("refused task is %s", tk.State)
	}

	// Once it is offered to another agent, the waiting task is theirs: the
	// agent who serves its queue may not take it, and is not told who has it.
	if _, err := r.SetWorkerActivity(ctx, "wk_other", backend.ActivityAvailable); err != nil {
		t.Fatal(err)
	}
	if tk, _ := r.Task(ctx, second); tk.State != backend.TaskReserved || tk.WorkerID != "wk_other" {
		t.Fatalf("the waiting task was not offered to the other agent: %+v", tk)
	}
	fail = api.ErrorResponse{}
	if st := e.Do(t, agent, "POST", "/api/tasks/"+second+"/take", "", &fail); st != 409 || fail.Error.Reason != backend.ReasonTaskTaken ||
		strings.Contains(fail.Error.Message, "Other") {
		t.Fatalf("taking a task offered to another agent: %d %+v", st, fail.Error)
	}
	if tk, _ := r.Task(ctx, second); tk.State != backend.TaskReserved || tk.WorkerID != "wk_other" {
		t.Fatalf("the other agent's offer was withdrawn: %+v", tk)
	}
}
