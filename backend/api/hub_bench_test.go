package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"switchboard/backend"
)

// BenchmarkFeedBroadcast measures the live feed's own cost: the hub
// handing a stream of message events to N agents (each holding their own
// conversations) and two supervisors, each event going only to who may
// read it. Reported: log events dispatched per second.
//
//	go test -run '^$' -bench FeedBroadcast -benchtime 20000x ./backend/api
func BenchmarkFeedBroadcast(b *testing.B) {
	for _, agents := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("agents=%d", agents), func(b *testing.B) {
			h := NewHub(nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			st := newHubState(h)
			// Frames wait in the clients' buffers (a page of 500 events makes
			// at most one frame per client), so only the hub's work is timed.
			var clients []*wsClient
			addClient := func(u backend.User, convs map[string]string) {
				c := &wsClient{hub: h, send: make(chan []byte, b.N/framePage+2), acc: newFeedAccess(u, "", convs)}
				st.add(c)
				clients = append(clients, c)
			}
			for i := range agents {
				addClient(backend.User{ID: fmt.Sprintf("u%d", i), Role: backend.RoleAgent},
					map[string]string{fmt.Sprintf("cv%d", i): fmt.Sprintf("ct%d", i)})
			}
			for i := range 2 {
				addClient(backend.User{ID: fmt.Sprintf("sup%d", i), Role: backend.RoleSupervisor}, nil)
			}
			events := make([]backend.Event, b.N)
			now := time.Now().UTC()
			for i := range events {
				conv := fmt.Sprintf("cv%d", i%agents)
				data, _ := json.Marshal(backend.Message{ID: fmt.Sprintf("msg%d", i), ConversationID: conv, ContactID: "ct", Direction: "in",
					Text: "Hi, my order #4411 has not arrived yet. Can you check?", Status: "received", Attachments: []backend.Attachment{},
					CreatedAt: now, UpdatedAt: now})
				events[i] = backend.Event{Seq: int64(i + 1), Type: backend.EventMessageUpserted, EntityID: fmt.Sprintf("msg%d", i), Data: data, CreatedAt: now}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < len(events); i += framePage {
				st.broadcast(context.Background(), events[i:min(i+framePage, len(events))])
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			var bytes int
			for _, c := range clients {
				for len(c.send) > 0 {
					bytes += len(<-c.send)
				}
			}
			b.ReportMetric(float64(bytes)/float64(b.N), "sent-B/event")
			st.dropAll()
		})
	}
}
