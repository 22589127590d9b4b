package channels_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels"
	"switchboard/channels/internal/hubtest"
)

// scriptedPoller is a connector whose every Poll plays the next step of a
// script: whether the platform accepts the connection, and how it ends.
type scriptedPoller struct{ s *pollScript }

type pollStep struct {
	connect bool
	err     error
}

type pollScript struct {
	mu    sync.Mutex
	steps []pollStep
	polls int
}

// script is what the next instance built plays.
var script = &pollScript{}

func init() {
	channels.Register(channels.Info{ID: "test.poller", New: func(channels.Params) (channels.Connector, error) {
		return scriptedPoller{script}, nil
	}})
}

func (scriptedPoller) Verify(*channels.Request) error {
	return backend.Errorf(backend.EForbidden, "No webhooks.")
}
func (scriptedPoller) Parse(*channels.Request) (*channels.Webhook, error) {
	return nil, backend.Errorf(backend.EInvalid, "No webhooks.")
}
func (scriptedPoller) Send(context.Context, *channels.Outbound) (*channels.Sent, error) {
	return nil, channels.Permanent("Nothing is sent.")
}
func (scriptedPoller) Polling() bool { return true }

func (p scriptedPoller) Poll(ctx context.Context, link channels.PollLink) error {
	p.s.mu.Lock()
	n := p.s.polls
	p.s.polls++
	var st pollStep
	if n < len(p.s.steps) {
		st = p.s.steps[n]
	}
	p.s.mu.Unlock()
	if n >= len(p.s.steps) { // the script is over: hold the connection
		<-ctx.Done()
		return ctx.Err()
	}
	if st.connect {
		link.Connected()
	}
	return st.err
}

func (s *pollScript) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls
}

// TestPoller_ReconnectsWithinSecondsAndStopsOnFinal: after a dropped
// connection the hub reconnects in about a second, the wait doubles while
// connecting fails, stays capped at a few seconds, starts over once the
// platform accepted a connection, each wait spread by jitter; an error the
// platform says is final stops the instance, which its health shows.
func TestPoller_ReconnectsWithinSecondsAndStopsOnFinal(t *testing.T) {
	drop := errors.New("connection reset by peer")
	script = &pollScript{steps: []pollStep{{true, drop}, {false, drop}, {false, drop}, {false, drop}, {false, drop}, {true, drop}, {true, drop},
		{false, &channels.FinalError{Reason: "The platform refused the token."}}}}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, channels.PollRetryMax, channels.PollRetryMax, time.Second, time.Second}
	env := hubtest.New(t, "test.poller", "main", map[string]any{}, "")
	ctx, cancel := context.WithCancel(context.Background())
	if err := env.Hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); env.Hub.Close() })

	var last time.Time
	for i, w := range want {
		var st *backend.ChannelStatus
		waitUntil(t, fmt.Sprintf("the wait after connection %d", i+1), func() bool {
			st = status(t, env)
			return st.RetryAt.After(last) && env.Clock.Waiting(st.RetryAt)
		})
		last = st.RetryAt
		wait := st.RetryAt.Sub(env.Clock.Now())
		if wait < w*8/10 || wait > w*12/10 {
			t.Errorf("wait after connection %d: %v, want %v ±20%%", i+1, wait, w)
		}
		if st.Error != "connection reset by peer" || st.State != backend.ChannelRunning || script.count() != i+1 {
			t.Errorf("health after connection %d (%d polls): %+v", i+1, script.count(), st)
		}
		env.Clock.Advance(wait)
	}
	waitUntil(t, "the instance to stop", func() bool { return status(t, env).State == backend.ChannelStopped })
	if st := status(t, env); st.Error != "The platform refused the token." || !st.RetryAt.IsZero() || st.ConnectedAt.IsZero() {
		t.Fatalf("stopped health %+v", st)
	}
	if script.count() != len(script.steps) {
		t.Fatalf("polled %d times, want %d", script.count(), len(script.steps))
	}
}

func status(t *testing.T, env *hubtest.Env) *backend.ChannelStatus {
	t.Helper()
	list, err := env.Hub.Statuses(context.Background(), "")
	if err != nil || len(list) != 1 {
		t.Fatalf("statuses %v %v", list, err)
	}
	return list[0]
}

// waitUntil polls a condition of goroutines the test does not drive; the
// deadline only bounds a failing test.
func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
