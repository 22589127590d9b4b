package server_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/postgres/pgtest"
	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/channels/twilio/twiliotest"
)

// The load of BenchmarkServe_WebhookToOffer: clients posting at once, the
// numbers they post to and the agents taking the offers.
const (
	benchClients   = 8
	benchInstances = 4
	benchAgents    = 8
)

// The stores the benchmarks compare: SQLite (one engine), and one or two
// serve nodes on one PostgreSQL database.
var benchStores = []struct {
	name  string
	nodes int // 0: SQLite
}{{"sqlite", 0}, {"postgres-1node", 1}, {"postgres-2nodes", 2}}

// benchOfferRate is the webhooks per second of BenchmarkServe_WebhookToOffer:
// below what every store keeps up with, so that its latencies are the
// engine's path to an offer rather than a growing backlog.
const benchOfferRate = 5

// BenchmarkServe_Inbound is the load driver behind BENCHMARKS.md's inbound
// figures for several nodes: b.N customers each send one signed Twilio
// webhook asking for an agent, from eight clients at once (spread over the
// nodes) as fast as they are acknowledged, with eight agents signed in over
// the API taking the offers. It reports the acknowledged webhooks per
// second (msgs/s). PostgreSQL runs with its durable defaults (a server of
// the benchmark's own, not the tests' fast one).
func BenchmarkServe_Inbound(b *testing.B) { benchStoresRun(b, 0) }

// BenchmarkServe_WebhookToOffer is the same load posted at benchOfferRate
// webhooks per second: it reports, per message, the time from posting its
// webhook to its offer reaching an agent's WebSocket (offer-p50-ms,
// offer-p99-ms).
func BenchmarkServe_WebhookToOffer(b *testing.B) { benchStoresRun(b, benchOfferRate) }

// benchStoresRun runs the load (at rate webhooks per second; 0: as fast as
// they are acknowledged) on each of benchStores.
func benchStoresRun(b *testing.B, rate float64) {
	var pg *pgtest.Server
	var databases atomic.Int64
	database := func(b *testing.B) string {
		if pg == nil {
			var err error
			if pg, err = pgtest.Start(); err != nil {
				b.Fatal(err)
			}
		}
		name := fmt.Sprintf("bench%d", databases.Add(1))
		if err := pg.Exec(context.Background(), "postgres", "CREATE DATABASE "+name); err != nil {
			b.Fatal(err)
		}
		return pg.URL(name)
	}
	defer func() {
		if pg != nil {
			pg.Stop()
		}
	}()
	for _, tc := range benchStores {
		b.Run(tc.name, func(b *testing.B) {
			cfg := server.Config{SecretKey: secret.MustNew(), DataDir: b.TempDir()}
			if tc.nodes > 0 {
				cfg.Store = database(b)
			}
			benchWebhookToOffer(b, cfg, max(tc.nodes, 1), rate)
		})
	}
}

func benchWebhookToOffer(b *testing.B, cfg server.Config, nodes int, rate float64) {
	ctx, stop := context.WithCancel(context.Background())
	fake := twiliotest.NewServer(accountSID, authToken)
	defer fake.Close()
	instances := make([]string, benchInstances)
	for n := range instances {
		instances[n] = fmt.Sprintf("n%d", n)
	}
	var emails []string
	for i := range benchAgents {
		emails = append(emails, fmt.Sprintf("agent%d@example.com", i))
	}
	setUpTeam(b, cfg, fake, instances, emails)

	cfg.PublicURL, cfg.ChannelBaseURLs = crashPublic, map[string]string{"sms.twilio": fake.URL}
	lb := &balancer{dead: map[*node]bool{}}
	var engine *server.Server
	for i := range nodes {
		if cfg.Store != "" {
			cfg.DataDir = b.TempDir() // only recordings: each node its own
		}
		e := openEngine(b, cfg)
		if engine == nil {
			engine = e
		}
		lb.nodes = append(lb.nodes, &node{name: string(rune('a' + i)), base: e.URL()})
	}
	var agents []*agentRun
	var running sync.WaitGroup
	defer func() { stop(); running.Wait() }()
	for i, email := range emails {
		a, err := newAgentRun(lb, i, email)
		if err != nil {
			b.Fatal(err)
		}
		// Room for every task at once: the figure is the engine's path
		// to an offer, not a queue waiting for agents to finish.
		w, err := engine.Routing.Worker(ctx, a.worker)
		if err != nil {
			b.Fatal(err)
		}
		w.Capacity = map[string]int{backend.ChannelChat: b.N}
		if _, err := engine.Routing.UpsertWorker(ctx, w); err != nil {
			b.Fatal(err)
		}
		agents = append(agents, a)
		running.Add(1)
		go func() {
			defer running.Done()
			a.run(ctx)
		}()
	}
	msgs := make([]*crashMsg, b.N)
	for i := range msgs {
		n := i % benchInstances
		m := &crashMsg{instance: instances[n], number: fmt.Sprintf("+1555000%04d", n), customer: fmt.Sprintf("+1555888%06d", i),
			text: fmt.Sprintf("agent please %d", i), agent: true}
		m.params = fake.InboundParams(m.customer, m.number, m.text)
		msgs[i] = m
	}
	posted := make([]time.Time, b.N)

	b.ResetTimer()
	began := time.Now()
	var next atomic.Int64
	var clients sync.WaitGroup
	for range benchClients {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for i := int(next.Add(1) - 1); i < b.N; i = int(next.Add(1) - 1) {
				if rate > 0 { // open loop: message i is due at its time, whatever came before
					time.Sleep(time.Until(began.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
				}
				posted[i] = time.Now()
				if !postWebhook(fake, strings.TrimPrefix(lb.nodes[i%nodes].base, "http://"), msgs[i]) {
					b.Errorf("webhook %d not acknowledged", i)
					return
				}
			}
		}()
	}
	clients.Wait()
	acked := time.Since(began)
	if rate == 0 {
		b.StopTimer()
		b.ReportMetric(float64(b.N)/acked.Seconds(), "msgs/s")
		return
	}
	firstOffers := waitFor(b, "every task to be offered", func() (map[string]time.Time, bool) {
		first := map[string]time.Time{}
		for _, a := range agents {
			a.mu.Lock()
			for _, o := range a.offers {
				if at, ok := first[o.res.TaskID]; !ok || o.at.Before(at) {
					first[o.res.TaskID] = o.at
				}
			}
			a.mu.Unlock()
		}
		return first, len(first) >= b.N
	})
	b.StopTimer()

	var latencies []time.Duration
	for id, at := range firstOffers {
		i := messageOfTask(b, engine.Store, id)
		latencies = append(latencies, at.Sub(posted[i]))
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "offer-p50-ms")
	b.ReportMetric(pct(0.99), "offer-p99-ms")
}

// messageOfTask returns the index of the benchmark message whose hand-over
// made task id.
func messageOfTask(b *testing.B, store server.Store, id string) int {
	ctx := context.Background()
	task, err := store.FindTask(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	msgs, err := store.FindMessages(ctx, task.ConversationID)
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range msgs {
		var i int
		if _, err := fmt.Sscanf(m.Text, "agent please %d", &i); err == nil && m.Direction == backend.DirectionIn {
			return i
		}
	}
	b.Fatalf("task %s: no benchmark message in its conversation", id)
	return 0
}
