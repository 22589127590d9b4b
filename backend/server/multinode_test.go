package server_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"switchboard/backend"
	"switchboard/backend/cluster"
	"switchboard/backend/postgres/pgtest"
	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/channels/twilio/twiliotest"
)

// multiNodeAgents are the agents of the multi-node test; the first half
// work on the first node, the others on the second.
var multiNodeAgents = []string{"ana@example.com", "ben@example.com", "cai@example.com", "dee@example.com"}

// TestMultiNode_LeaderKilledMidLoad is the acceptance test for several
// serve nodes on one PostgreSQL database: two `switchboard serve`
// processes take signed Twilio webhooks from eight numbers, spread over
// both (senders repost whatever was not acknowledged, as Twilio does);
// agents signed in on either node accept every offer and complete its
// task. Halfway through the load the routing leader is SIGKILLed and the
// other node takes over. In the end every acknowledged message is stored
// once and seen by its flow once, every conversation has one task, no task
// was ever reserved to two workers at a time, no reply reached the fake
// Twilio twice, and the takeover time is logged.
func TestMultiNode_LeaderKilledMidLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("the multi-node test runs two engines in child processes")
	}
	if raceDetector {
		t.Skip("runs without the race detector, like the crash test: make multinode-test (part of make test)")
	}
	ctx, stopAgents := context.WithCancel(context.Background())
	defer stopAgents()
	url, key := pgtest.NewDatabase(t), secret.MustNew()
	fake := twiliotest.NewServer(accountSID, authToken)
	defer fake.Close()
	instances := make([]string, crashNumbers)
	for n := range instances {
		instances[n] = fmt.Sprintf("n%d", n)
	}
	setUpTeam(t, server.Config{Store: url, SecretKey: key}, fake, instances, multiNodeAgents)
	msgs := staggeredLoad(fake)

	flags := func() []string {
		return []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--store", url, "--public-url", crashPublic,
			"--channel-base-url", "sms.twilio=" + fake.URL}
	}
	nodes := []*node{
		startNode(t, "a", flags(), server.SecretKeyEnv+"="+key.Text()),
		startNode(t, "b", flags(), server.SecretKeyEnv+"="+key.Text()),
	}
	lb := &balancer{nodes: nodes, dead: map[*node]bool{}}
	leader := waitFor(t, "a node to lead routing", func() (*node, bool) {
		for _, n := range nodes {
			if !n.ledAt().IsZero() {
				return n, true
			}
		}
		return nil, false
	})
	survivor := nodes[0]
	if survivor == leader {
		survivor = nodes[1]
	}

	var agents []*agentRun
	var running sync.WaitGroup
	for i, email := range multiNodeAgents {
		a, err := newAgentRun(lb, i, email)
		if err != nil {
			t.Fatal(err)
		}
		agents = append(agents, a)
		running.Add(1)
		go func() {
			defer running.Done()
			a.run(ctx)
		}()
	}
	defer func() { stopAgents(); running.Wait() }() // also when the test fails

	var acked atomic.Int64
	var posts atomic.Int64
	halfway := make(chan struct{})
	var once sync.Once
	var senders sync.WaitGroup
	for n, instance := range instances {
		senders.Add(1)
		go func() {
			defer senders.Done()
			k := n
			for _, m := range msgs {
				if m.instance != instance {
					continue
				}
				for { // until acknowledged, across the kill
					k++
					posts.Add(1)
					target := lb.pick(k)
					if postWebhook(fake, strings.TrimPrefix(target.base, "http://"), m) {
						break
					}
					time.Sleep(10 * time.Millisecond) // the sender's back-off before it posts again
				}
				if acked.Add(1) == int64(len(msgs)/2) {
					once.Do(func() { close(halfway) })
				}
				if !m.agent {
					awaitEcho(fake, m)
				}
			}
		}()
	}
	loaded := make(chan struct{})
	go func() { senders.Wait(); close(loaded) }()

	<-halfway
	waitFor(t, "agents on both nodes to get offers", func() (bool, bool) {
		seen := offersByNode(agents, time.Time{})
		return true, seen["a"] > 0 && seen["b"] > 0 || isClosed(loaded)
	})
	select {
	case <-loaded:
		t.Fatalf("the load ended before the leader was killed (offers per node: %v); make it longer", offersByNode(agents, time.Time{}))
	default:
	}
	killed, ackedAtKill := time.Now(), acked.Load()
	leader.kill()
	lb.down(leader)
	took := waitFor(t, "the other node to take over routing", func() (time.Time, bool) {
		at := survivor.ledAt()
		return at, at.After(killed)
	}).Sub(killed)
	if took > cluster.CallTimeout {
		t.Errorf("the takeover took %v: the other node's routing calls give up after %v", took, cluster.CallTimeout)
	}
	<-loaded

	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store, err := server.OpenStore(context.Background(), server.Config{Store: url, SecretKey: key, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	drained := waitDrained(t, store, fake, msgs)
	waitFor(t, "every task to be completed", func() (bool, bool) {
		var open, all int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE state <> 'completed'), count(*) FROM routing_tasks`).
			Scan(&open, &all); err != nil {
			t.Fatal(err)
		}
		done := open == 0 && all == crashNumbers*crashCustomers
		return done, done
	})
	stopAgents()
	running.Wait()
	survivor.kill()

	r := checkExactlyOnce(t, store, fake, msgs, allTasks(t, pool))
	firstOffer := checkOffers(t, agents, killed, survivor)
	checkReservations(t, pool)
	checkInDoubt(t, pool, killed)
	t.Logf("multi-node test: 2 nodes, the leader (node %s) killed after %d of %d acknowledged webhooks; node %s took over routing in %v, "+
		"its first offer %v after the kill; %d posts; stored once each: %d; echoes stored once each: %d; tasks: %d, each reserved to one worker at a time; "+
		"replies at the fake: %d, none twice; failed as in doubt (sends under way on the killed node, not repeated): %d, of which %d had reached the fake; drained in %v",
		leader.name, ackedAtKill, len(msgs), survivor.name, took.Round(time.Millisecond), firstOffer.Round(time.Millisecond), posts.Load(),
		r.stored, r.echoes, r.tasks, r.atFake, r.inDoubt, r.inDoubtReached, drained.Round(time.Millisecond))
}

// awaitEcho is a customer reading the answer to a message before writing
// the next: it waits until the echo reaches the fake Twilio, or for at most
// a second (an echo may fail in doubt when its sender is killed).
func awaitEcho(fake *twiliotest.Server, m *crashMsg) {
	for until := time.Now().Add(time.Second); time.Now().Before(until); time.Sleep(5 * time.Millisecond) {
		for _, r := range slices.Backward(fake.Requests()) {
			if r.Form.Get("Body") == "echo: "+m.text {
				return
			}
		}
	}
}

// staggeredLoad is the crash test's messages with each number's customers
// one after another, so that hand-overs (each customer's last message) come
// all through the load rather than at its end.
func staggeredLoad(fake *twiliotest.Server) []*crashMsg {
	msgs := crashLoad(fake)
	slices.SortStableFunc(msgs, func(a, b *crashMsg) int { return cmp.Compare(a.customer, b.customer) })
	return msgs
}

// waitFor waits until found reports it found something, and returns it;
// the deadline only stops a broken run.
func waitFor[T any](t testing.TB, what string, found func() (T, bool)) T {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if v, ok := found(); ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// allTasks counts the tasks of each conversation, open or not.
func allTasks(t *testing.T, pool *pgxpool.Pool) map[string]int {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT conversation_id, count(*) FROM routing_tasks GROUP BY conversation_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var conv string
		var n int
		if err := rows.Scan(&conv, &n); err != nil {
			t.Fatal(err)
		}
		out[conv] = n
	}
	return out
}

// checkOffers checks what the agents' desktops saw: offers reached agents
// on both nodes, and on the survivor after the kill; no task was accepted
// by two agents; nothing failed. It returns how long after the kill the
// first offer came.
func checkOffers(t *testing.T, agents []*agentRun, killed time.Time, survivor *node) time.Duration {
	t.Helper()
	if before := offersByNode(agents, killed); before["a"] == 0 || before["b"] == 0 {
		t.Errorf("offers seen per node before the kill: %v, want some on each", before)
	}
	acceptedBy := map[string]string{}
	var first time.Duration
	for _, a := range agents {
		a.mu.Lock()
		for _, o := range a.offers {
			if o.at.After(killed) && o.node == survivor.name && (first == 0 || o.at.Sub(killed) < first) {
				first = o.at.Sub(killed)
			}
		}
		for task := range a.accepted {
			if other, ok := acceptedBy[task]; ok {
				t.Errorf("task %s accepted by %s and %s", task, other, a.c.email)
			}
			acceptedBy[task] = a.c.email
		}
		for _, f := range a.failures {
			t.Error(f)
		}
		a.mu.Unlock()
	}
	if first == 0 {
		t.Error("no offer reached an agent on the surviving node after the kill")
	}
	if len(acceptedBy) != crashNumbers*crashCustomers {
		t.Errorf("agents accepted %d tasks, want %d", len(acceptedBy), crashNumbers*crashCustomers)
	}
	return first
}

// checkInDoubt checks that only the killed node's sends were failed as in
// doubt: no node takes over the send of a node that is alive.
func checkInDoubt(t *testing.T, pool *pgxpool.Pool, killed time.Time) {
	t.Helper()
	var before int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM messages WHERE direction = 'out' AND status = $1 AND updated_at < $2`,
		backend.DeliveryFailed, killed).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if before > 0 {
		t.Errorf("%d replies failed before the kill: a node took over the sends of a live node", before)
	}
}

// offersByNode counts the offers the agents saw on each node (before
// until, unless it is zero).
func offersByNode(agents []*agentRun, until time.Time) map[string]int {
	out := map[string]int{}
	for _, a := range agents {
		a.mu.Lock()
		for _, o := range a.offers {
			if until.IsZero() || o.at.Before(until) {
				out[o.node]++
			}
		}
		a.mu.Unlock()
	}
	return out
}

// checkReservations checks in the database that no two reservations of a
// task overlapped in time and that one of each task's was accepted.
func checkReservations(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT data FROM routing_reservations`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	byTask := map[string][]backend.Reservation{}
	for rows.Next() {
		var r backend.Reservation
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		byTask[r.TaskID] = append(byTask[r.TaskID], r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for task, list := range byTask {
		slices.SortFunc(list, func(a, b backend.Reservation) int { return a.CreatedAt.Compare(b.CreatedAt) })
		held := 0
		for i, r := range list {
			if r.State == backend.ReservationAccepted || r.State == backend.ReservationWrapping || r.State == backend.ReservationCompleted {
				held++
			}
			if i > 0 && (list[i-1].Active() || list[i-1].UpdatedAt.After(r.CreatedAt)) {
				t.Errorf("task %s: reservation %s (%s, %s…%s) overlaps %s (created %s)", task, list[i-1].ID, list[i-1].State,
					list[i-1].CreatedAt.Format(time.StampMicro), list[i-1].UpdatedAt.Format(time.StampMicro), r.ID, r.CreatedAt.Format(time.StampMicro))
			}
		}
		if held != 1 {
			t.Errorf("task %s: %d reservations accepted, want 1: %+v", task, held, list)
		}
	}
	if len(byTask) != crashNumbers*crashCustomers {
		t.Errorf("reservations of %d tasks, want %d", len(byTask), crashNumbers*crashCustomers)
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
