package api_test

import (
	"context"
	"fmt"
	"testing"

	"switchboard/backend"
	"switchboard/backend/api"
)

// BenchmarkFeedSync measures an agent's catch-up over /api/sync on a real
// SQLite store: 100 agents hold a conversation each, the log holds b.N
// message events spread over them, and one agent pages through all of it,
// getting only their own. Reported: log events looked at per second.
//
//	go test -run '^$' -bench FeedSync -benchtime 20000x ./backend/api
func BenchmarkFeedSync(b *testing.B) {
	ctx := context.Background()
	e := MustStartEngine(b)
	const agents = 100
	var agent string // the signed-in agent holds the first conversation
	users, _ := e.DB.FindUsers(ctx)
	for _, u := range users {
		if u.Role == backend.RoleAgent {
			agent = u.ID
		}
	}
	for i := range agents {
		m, _, err := e.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: fmt.Sprint("c", i), ExternalID: fmt.Sprint("first", i), Text: "hi"})
		if err != nil {
			b.Fatal(err)
		}
		user := fmt.Sprint("usr_", i)
		if i == 0 {
			user = agent
		}
		if err := e.DB.SaveRouting(ctx, &backend.RoutingChange{Access: []*backend.ConversationAccess{{ConversationID: m.ConversationID,
			Users: map[string]string{user: backend.AccessOwner}}}}); err != nil {
			b.Fatal(err)
		}
	}
	batch := make([]*backend.InboundMessage, 0, 500)
	for i := 0; i < b.N/2; i++ { // each message adds a message and a conversation event
		batch = append(batch, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: fmt.Sprint("c", i%agents),
			ExternalID: fmt.Sprint("m", i), Text: "Hi, my order #4411 has not arrived yet. Can you check?"})
		if len(batch) == cap(batch) || i == b.N/2-1 {
			if _, err := e.DB.ImportInbound(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	token := e.SignIn(b, "agent@example.com")
	last, _ := e.DB.LastSeq(ctx)
	b.ResetTimer()
	var got int
	for since, more := int64(0), true; more; {
		var page api.SyncResponse
		if st := e.Do(b, token, "GET", fmt.Sprintf("/api/sync?since=%d", since), "", &page); st != 200 {
			b.Fatalf("sync: %d", st)
		}
		got += len(page.Events)
		since, more = page.Next, page.More
	}
	b.StopTimer()
	b.ReportMetric(float64(last)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(got), "delivered")
}
