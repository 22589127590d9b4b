package channels_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels/internal/hubtest"
	"switchboard/channels/twilio"
	"switchboard/channels/twilio/twiliotest"
)

// BenchmarkInbound measures the inbound path end to end: a signed Twilio
// webhook over HTTP → signature check → stored in SQLite → its
// message.upserted event read from the change feed by a subscriber. It
// reports messages per second and p50/p99 latency of one message.
//
//	go test -run '^$' -bench BenchmarkInbound -benchtime 2000x ./channels/
func BenchmarkInbound(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchInbound(b, clients) })
	}
}

func benchInbound(b *testing.B, clients int) {
	fake := twiliotest.NewServer(crashAccount, crashToken)
	defer fake.Close()
	env := hubtest.New(b, twilio.SMS, "main", map[string]any{"accountSid": crashAccount, "authToken": crashToken, "from": "+15550001234"}, fake.URL)
	hook := env.HookURL(twilio.SMS, "main")
	params := make([]url.Values, b.N)
	for i := range params {
		params[i] = fake.InboundParams(fmt.Sprintf("+1555%07d", i%5000), "+15550001234", "benchmark message")
	}
	// A change-feed subscriber, as the API's live feed is: it timestamps
	// when each message's event becomes readable.
	seen := make(map[string]time.Time, b.N)
	var seenMu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	notify, stop := env.DB.Notify()
	defer stop()
	last, _ := env.DB.LastSeq(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-notify:
			}
			evs, err := env.DB.EventsSince(ctx, last, 10000)
			if err != nil {
				return
			}
			now := time.Now()
			seenMu.Lock()
			for _, e := range evs {
				last = e.Seq
				if e.Type == backend.EventMessageUpserted {
					seen[e.EntityID] = now
				}
			}
			seenMu.Unlock()
		}
	}()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	start := make([]time.Time, b.N)
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	b.ResetTimer()
	t0 := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= b.N {
					return
				}
				req := fake.WebhookRequest(hook, params[i])
				start[i] = time.Now()
				resp, err := client.Do(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Errorf("webhook %d: %v %v", i, resp, err)
					return
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	// Wait until the feed shows every message.
	want := b.N
	for {
		seenMu.Lock()
		n := len(seen)
		seenMu.Unlock()
		if n >= want {
			break
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(t0)
	b.StopTimer()
	cancel()
	<-done

	// Match events to webhooks through the stored external ids.
	ids := map[string]int{}
	for i, p := range params {
		ids[p.Get("MessageSid")] = i
	}
	var lat []time.Duration
	rows, err := env.DB.Reader().Query(`SELECT id, external_id FROM messages`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id, ext string
		rows.Scan(&id, &ext)
		if i, ok := ids[ext]; ok {
			lat = append(lat, seen[id].Sub(start[i]))
		}
	}
	rows.Close()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(0, "ns/op")
}
