package api_test

import (
	"context"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/api"
	"switchboard/backend/routing"
)

// BenchmarkSupervisorLive_TaskToSocket measures the live view's update
// latency: from creating a task (committed with its events) to the
// supervisor's socket receiving a live view that counts it. Tasks wait in
// a queue nobody serves, so each view has one more waiting.
func BenchmarkSupervisorLive_TaskToSocket(b *testing.B) {
	ctx := context.Background()
	e := MustStartEngine(b)
	r := routing.New(e.DB, routing.Options{})
	if err := r.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	e.API.SetRouter(r)
	e.API.SetSupervisor(r, e.DB, time.UTC)
	for i := range 20 {
		if _, err := r.UpsertWorker(ctx, &backend.Worker{Name: "Agent " + string(rune('A'+i)), Activity: backend.ActivityAvailable}); err != nil {
			b.Fatal(err)
		}
	}
	q, err := r.UpsertQueue(ctx, &backend.Queue{Name: "Nobody's", TargetWorkers: "false"})
	if err != nil {
		b.Fatal(err)
	}
	last, _ := e.DB.LastSeq(ctx)
	conn := dialFeed(b, e, e.SignIn(b, "admin@example.com"), last)
	waiting := 0
	var worst time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := r.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelChat, QueueID: q.ID}); err != nil {
			b.Fatal(err)
		}
		waiting++
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		for {
			var f api.LiveFrame
			if err := conn.ReadJSON(&f); err != nil {
				b.Fatal(err)
			}
			if f.Live != nil && liveWaiting(f.Live, q.ID) == waiting {
				break
			}
		}
		worst = max(worst, time.Since(start))
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
}

func liveWaiting(v *backend.LiveView, queue string) int {
	for _, q := range v.Queues {
		if q.QueueID == queue {
			return q.Waiting
		}
	}
	return -1
}
