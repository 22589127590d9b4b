package api_test

import (
	"context"
	"testing"

	"switchboard/backend"
	"switchboard/backend/api"
	"switchboard/backend/routing"
)

// MustStartRouting runs a router on the engine's store behind its API.
func MustStartRouting(tb testing.TB, e *testEngine) *routing.Engine {
	tb.Helper()
	r := routing.New(e.DB, routing.Options{})
	if err := r.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	e.API.SetRouter(r)
	return r
}

func TestAPI_OffersAcceptRejectAndTaskEnd(t *testing.T) {
	ctx := context.Background()
	e := MustStartEngine(t)
	r := MustStartRouting(t, e)

	users, _ := e.DB.FindUsers(ctx)
	var agentID string
	for _, u := range users {
		if u.Email == "agent@example.com" {
			agentID = u.ID
		}
	}
	wk, err := r.UpsertWorker(ctx, &backend.Worker{ID: "wk_1", UserID: agentID, Name: "Agent", Activity: backend.ActivityAvailable})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.UpsertQueue(ctx, &backend.Queue{ID: "q1", Name: "Support"}); err != nil {
		t.Fatal(err)
	}
	t1, err := r.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelChat, QueueID: "q1"})
	if err != nil {
		t.Fatal(err)
	}
	t2, err := r.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelChat, QueueID: "q1"})
	if err != nil {
		t.Fatal(err)
	}
	agent, admin := e.SignIn(t, "agent@example.com"), e.SignIn(t, "admin@example.com")

	var offers []backend.Reservation
	if st := e.Do(t, agent, "GET", "/api/me/reservations", "", &offers); st != 200 || len(offers) != 2 {
		t.Fatalf("offers: %d %+v", st, offers)
	}
	var resp api.ErrorResponse
	other := &backend.User{Name: "Other", Email: "other@example.com", Role: backend.RoleAgent}
	if err := e.DB.CreateUser(ctx, other, "password1"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.UpsertWorker(ctx, &backend.Worker{ID: "wk_2", UserID: other.ID, Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	if st := e.Do(t, e.SignIn(t, "other@example.com"), "POST", "/api/reservations/"+offers[0].ID+"/accept", "", &resp); st != 403 {
		t.Fatalf("another agent accepting: %d %+v", st, resp)
	}
	if st := e.Do(t, agent, "POST", "/api/reservations/res_nope/accept", "", &resp); st != 404 {
		t.Fatalf("unknown offer: %d", st)
	}
	byTask := map[string]string{}
	for _, o := range offers {
		byTask[o.TaskID] = o.ID
	}
	var res backend.Reservation
	if st := e.Do(t, agent, "POST", "/api/reservations/"+byTask[t1.ID]+"/accept", "", &res); st != 200 || res.State != backend.ReservationAccepted {
		t.Fatalf("accept: %d %+v", st, res)
	}
	if st := e.Do(t, agent, "POST", "/api/reservations/"+byTask[t2.ID]+"/reject", "", &res); st != 200 || res.State != backend.ReservationRejected {
		t.Fatalf("reject: %d %+v", st, res)
	}
	var task backend.Task
	if st := e.Do(t, agent, "POST", "/api/tasks/"+t1.ID+"/transfer", `{}`, &resp); st != 400 {
		t.Fatalf("transfer to nowhere: %d", st)
	}
	if st := e.Do(t, agent, "POST", "/api/tasks/"+t1.ID+"/wrapup", `{"disposition":"Resolved"}`, &task); st != 200 || task.State != backend.TaskWrapping {
		t.Fatalf("wrap up: %d %+v", st, task)
	}
	if st := e.Do(t, agent, "POST", "/api/tasks/"+t1.ID+"/complete", `{"disposition":"Resolved"}`, &task); st != 200 || task.State != backend.TaskCompleted || task.Disposition != "Resolved" {
		t.Fatalf("complete: %d %+v", st, task)
	}
	var w backend.Worker
	if st := e.Do(t, agent, "POST", "/api/me/activity", `{"activity":"Break"}`, &w); st != 200 || w.Activity != "Break" || w.Available {
		t.Fatalf("activity: %d %+v", st, w)
	}
	if st := e.Do(t, agent, "POST", "/api/me/activity", `{"activity":"Nap"}`, &resp); st != 400 {
		t.Fatalf("unknown activity: %d %+v", st, resp)
	}
	if st := e.Do(t, agent, "GET", "/api/queues/q1/stats", "", &resp); st != 403 {
		t.Fatalf("agent reading stats: %d", st)
	}
	var stats backend.QueueStats
	if st := e.Do(t, admin, "GET", "/api/queues/q1/stats", "", &stats); st != 200 {
		t.Fatalf("stats: %d", st)
	}
	_ = wk
}
