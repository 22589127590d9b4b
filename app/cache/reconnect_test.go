package cache_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"switchboard/app/cache"
	"switchboard/app/client"
	"switchboard/backend"
	"switchboard/backend/server"
)

// statusLog records every Status the Syncer reports.
type statusLog struct {
	mu  sync.Mutex
	all []cache.Status
}

func (l *statusLog) add(st cache.Status) {
	l.mu.Lock()
	l.all = append(l.all, st)
	l.mu.Unlock()
}

func (l *statusLog) last() cache.Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.all) == 0 {
		return cache.Status{}
	}
	return l.all[len(l.all)-1]
}

// clockedSyncer is a Syncer on a FakeClock, signed in to an engine that
// the test can stop and start again on the same address.
type clockedSyncer struct {
	*cache.Syncer
	clock     *backend.FakeClock
	engineDir string
	addr      string
	engine    *server.Server
}

// startClocked signs ana in to a fresh engine and runs a Syncer set up by
// configure on a FakeClock until the test ends.
func startClocked(t *testing.T, configure func(*cache.Syncer)) *clockedSyncer {
	t.Helper()
	ctx := context.Background()
	cs := &clockedSyncer{engineDir: t.TempDir(), clock: backend.NewFakeClock(time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC))}
	cs.engine = MustOpenEngine(t, cs.engineDir, "127.0.0.1:0")
	cs.addr = cs.engine.URL()[len("http://"):]
	cl := client.New(cs.engine.URL(), "")
	if _, err := cl.SignIn(ctx, "ana@example.com", server.DemoPassword); err != nil {
		t.Fatal(err)
	}
	c := MustOpenCache(t, filepath.Join(t.TempDir(), "cache.db"))
	cs.Syncer = &cache.Syncer{Cache: c, Client: cl, Clock: cs.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	configure(cs.Syncer)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); cs.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		c.Close()
		cs.engine.Close()
	})
	return cs
}

// stopEngine stops the engine; startEngine starts it again on the same address.
func (cs *clockedSyncer) stopEngine() { cs.engine.Close() }

func (cs *clockedSyncer) startEngine(t *testing.T) {
	cs.engine = MustOpenEngine(t, cs.engineDir, cs.addr)
}

// TestSyncer_BacksOffOnItsClockAndRecoversByItself: the engine goes away;
// the Syncer waits on its clock between attempts, doubling the wait within
// ±20%, says "offline" after the third failure, and comes back online by
// itself once the engine is back and the wait has passed.
func TestSyncer_BacksOffOnItsClockAndRecoversByItself(t *testing.T) {
	var log statusLog
	cs := startClocked(t, func(s *cache.Syncer) {
		s.MinBackoff, s.MaxBackoff, s.OnStatus = time.Second, 3*time.Second, log.add
	})
	s, clock := cs.Syncer, cs.clock
	waitFor(t, "online", func() bool { return s.State() == cache.StateOnline })

	cs.stopEngine()
	for attempt, base := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
		waitFor(t, "a scheduled retry", func() bool { return s.Status().Attempt == attempt+1 })
		st := s.Status()
		wait := st.RetryAt.Sub(clock.Now())
		if lo, hi := base*8/10, base*12/10; wait < lo || wait > hi {
			t.Fatalf("attempt %d: next try in %v, want between %v and %v", st.Attempt, wait, lo, hi)
		}
		want := cache.StateReconnecting
		if st.Attempt >= 3 {
			want = cache.StateOffline
		}
		if st.State != want || st.LastError == "" {
			t.Fatalf("attempt %d: status %+v, want state %s with a reason", st.Attempt, st, want)
		}
		if log.last() != st {
			t.Fatalf("OnStatus last reported %+v, not %+v", log.last(), st)
		}
		if attempt < 2 {
			clock.Advance(wait)
		}
	}

	// Nothing happens until the clock reaches the retry time.
	cs.startEngine(t)
	if st := s.Status(); st.State != cache.StateOffline || st.Attempt != 3 {
		t.Fatalf("retried before its time: %+v", st)
	}
	clock.Advance(s.Status().RetryAt.Sub(clock.Now()))
	waitFor(t, "online again", func() bool { return s.State() == cache.StateOnline })
	if st := s.Status(); st != (cache.Status{State: cache.StateOnline}) {
		t.Fatalf("online status still carries the outage: %+v", st)
	}
}

// TestSyncer_ReconnectSkipsTheWait: after a long outage the wait is at its
// longest; Reconnect (woken from sleep, network back, "Retry now") tries at
// once, and also drops a live connection that may be dead after sleep.
func TestSyncer_ReconnectSkipsTheWait(t *testing.T) {
	var onlineCount int
	var mu sync.Mutex
	cs := startClocked(t, func(s *cache.Syncer) {
		s.MinBackoff, s.MaxBackoff = time.Minute, time.Hour
		s.OnState = func(state string) {
			if state == cache.StateOnline {
				mu.Lock()
				onlineCount++
				mu.Unlock()
			}
		}
	})
	s := cs.Syncer
	onlineTimes := func() int { mu.Lock(); defer mu.Unlock(); return onlineCount }
	waitFor(t, "online", func() bool { return onlineTimes() == 1 })

	// While online, Reconnect drops the feed and connects again at once.
	s.Reconnect()
	waitFor(t, "a fresh connection", func() bool { return onlineTimes() == 2 })

	cs.stopEngine()
	waitFor(t, "a scheduled retry", func() bool { return s.Status().Attempt == 1 })
	cs.startEngine(t)
	s.Reconnect() // the clock never moves: only Reconnect can bring it back
	waitFor(t, "online without waiting a minute", func() bool { return onlineTimes() == 3 })
}
