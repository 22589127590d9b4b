package api

import (
	"encoding/json"
	"testing"
	"time"

	"switchboard/backend"
)

// TestFeedAccess_MissedOfferReachesItsAgentAndSupervisors: an offer.missed
// event goes to the agent whose offer expired and to supervisors and
// admins, never to another agent, also when it names a conversation the
// other agent reads.
func TestFeedAccess_MissedOfferReachesItsAgentAndSupervisors(t *testing.T) {
	data, err := json.Marshal(backend.MissedOffer{ReservationID: "res_1", TaskID: "task_1", WorkerID: "wk_ben", ConversationID: "conv_1",
		Channel: backend.ChannelChat, QueueID: "q_support", OfferedAt: time.Unix(0, 0), ExpiredAt: time.Unix(30, 0)})
	if err != nil {
		t.Fatal(err)
	}
	e := &backend.Event{Seq: 7, Type: backend.EventOfferMissed, EntityID: "res_1", Data: data}
	convs := map[string]string{"conv_1": "contact_1"}
	for _, tc := range []struct {
		who      string
		user     backend.User
		workerID string
		want     bool
	}{
		{"ben, whose offer it was", backend.User{ID: "u_ben", Role: backend.RoleAgent}, "wk_ben", true},
		{"ana, another agent who reads the conversation", backend.User{ID: "u_ana", Role: backend.RoleAgent}, "wk_ana", false},
		{"an agent without a worker", backend.User{ID: "u_cy", Role: backend.RoleAgent}, "", false},
		{"a supervisor", backend.User{ID: "u_sue", Role: backend.RoleSupervisor}, "", true},
		{"an admin", backend.User{ID: "u_alex", Role: backend.RoleAdmin}, "", true},
	} {
		if got := newFeedAccess(tc.user, tc.workerID, convs).canSee(e); got != tc.want {
			t.Errorf("%s sees the missed offer: %v, want %v", tc.who, got, tc.want)
		}
	}
}
