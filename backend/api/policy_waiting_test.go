package api

import (
	"encoding/json"
	"testing"

	"switchboard/backend"
)

// TestFeedAccess_AgentsSeeWaitingTasksNotOthers: in a conversation an
// agent may read (here, one waiting in a queue they serve), a task that
// waits, reserved to nobody, reaches them so they can take it; once it is
// reserved or assigned to another agent it does not, while the agent it
// is reserved to, supervisors and admins see it.
func TestFeedAccess_AgentsSeeWaitingTasksNotOthers(t *testing.T) {
	convs := map[string]string{"conv_1": "contact_1"}
	ana, ben := backend.User{ID: "u_ana", Role: backend.RoleAgent}, backend.User{ID: "u_ben", Role: backend.RoleAgent}
	for _, tc := range []struct {
		state, worker string
		user          backend.User
		workerID      string
		want          bool
	}{
		{backend.TaskPending, "", ana, "wk_ana", true},
		{backend.TaskReserved, "wk_ben", ana, "wk_ana", false},
		{backend.TaskAssigned, "wk_ben", ana, "wk_ana", false},
		{backend.TaskWrapping, "wk_ben", ana, "wk_ana", false},
		{backend.TaskReserved, "wk_ben", ana, "", false},
		{backend.TaskReserved, "wk_ana", ana, "wk_ana", true},
		{backend.TaskAssigned, "wk_ben", ben, "wk_ben", true},
		{backend.TaskAssigned, "wk_ben", backend.User{ID: "u_sue", Role: backend.RoleSupervisor}, "", true},
		{backend.TaskAssigned, "wk_ben", backend.User{ID: "u_alex", Role: backend.RoleAdmin}, "", true},
	} {
		data, err := json.Marshal(backend.Task{ID: "task_1", Channel: backend.ChannelChat, ConversationID: "conv_1", QueueID: "q_support",
			State: tc.state, WorkerID: tc.worker})
		if err != nil {
			t.Fatal(err)
		}
		e := &backend.Event{Seq: 9, Type: backend.EventTaskUpserted, EntityID: "task_1", Data: data}
		if got := newFeedAccess(tc.user, tc.workerID, convs).canSee(e); got != tc.want {
			t.Errorf("%s (worker %q) sees a %s task of worker %q: %v, want %v", tc.user.ID, tc.workerID, tc.state, tc.worker, got, tc.want)
		}
	}
	// A task of a conversation the agent may not read never reaches them.
	data, _ := json.Marshal(backend.Task{ID: "task_2", ConversationID: "conv_2", State: backend.TaskPending})
	if newFeedAccess(ana, "wk_ana", convs).canSee(&backend.Event{Type: backend.EventTaskUpserted, EntityID: "task_2", Data: data}) {
		t.Error("ana sees a waiting task of a conversation she may not read")
	}
}
