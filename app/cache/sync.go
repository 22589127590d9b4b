package cache

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/app/client"
	"switchboard/backend"
)

// Connection states reported by the Syncer.
const (
	StateOnline       = "online"
	StateReconnecting = "reconnecting"
	StateOffline      = "offline"
	StateSignedOut    = "signed_out"
)

// Syncer keeps a Cache up to date with an engine: it pages through the
// change feed from the cache's cursor, then follows the live WebSocket, and
// sends queued replies. When the engine is unreachable it retries with
// backoff; the cache stays readable throughout.
type Syncer struct {
	Cache  *Cache
	Client *client.Client
	Logger *slog.Logger
	// OnChange is called after events were applied, with the new cursor,
	// and after a reply left the outbox (sent or refused).
	OnChange func(lastSeq int64)
	// OnState is called when the connection state changes.
	OnState func(state string)
	// OnProgress, when set, is told how many of the feed's events a long
	// catch-up (more than one page) has applied so far, of how many.
	OnProgress func(done, total int64)
	// OnSnapshotProgress, when set, is told how many conversations a
	// snapshot (a first sync, or one behind the engine's pruned floor) has
	// brought so far, of how many; OnChange is called after each batch, so
	// the inbox fills newest first while it runs.
	OnSnapshotProgress func(done, total int64)
	// OnReset, when set, is told that the cache started over because the
	// engine's feed changed, with how many unsent replies it held back.
	OnReset func(held int)
	// OnTyping, when set, sees the engine's typing signals.
	OnTyping func(client.Typing)
	// OnRemoved is called with the conversations the user lost (the
	// cache dropped them), before OnChange.
	OnRemoved func(conversationIDs []string)
	// OnFrame is called with the live feed's frames that are not events
	// (the supervisors' live view).
	OnFrame func(typ string, frame []byte)
	// OnStatus is called when the state changes and whenever a retry is
	// scheduled, so the UI can say when the next attempt is.
	OnStatus func(Status)
	// MinBackoff and MaxBackoff bound the wait between reconnects; each
	// wait is drawn within ±20% of the doubling sequence, so desktops that
	// lost the same server do not all come back in the same instant.
	MinBackoff, MaxBackoff time.Duration
	// Clock times the waits between reconnects (tests use a FakeClock).
	Clock backend.Clock
	// PageSize is how many events a catch-up asks the engine for at a
	// time; 0 takes the engine's largest page.
	PageSize int
	// AckEvery is how often, at most, the live feed tells the engine how
	// far the cache has applied it (so the engine may prune the events
	// before); 0 means DefaultAckEvery.
	AckEvery time.Duration

	// Fetched counts events received from the engine (feed pages and live).
	Fetched atomic.Int64

	kick   chan struct{}
	retry  chan struct{}
	mu     sync.Mutex
	status Status
}

// Status says how the Syncer's connection stands.
type Status struct {
	// State is online, reconnecting, offline or signed_out.
	State string `json:"state"`
	// Attempt counts failed attempts since the last time it was online.
	Attempt int `json:"attempt"`
	// RetryAt is when the next attempt starts; zero unless waiting.
	RetryAt time.Time `json:"retryAt"`
	// LastError says why the last attempt failed, in a sentence.
	LastError string `json:"lastError"`
}

// errReconnect ends a live session that Reconnect asked to drop.
var errReconnect = errors.New("reconnect requested")

// Reconnect drops the connection and connects again now, without waiting
// for the backoff: the machine woke from sleep, the network came back or
// the user asked. The next waits start again from MinBackoff.
func (s *Syncer) Reconnect() {
	select {
	case s.retries() <- struct{}{}:
	default:
	}
}

func (s *Syncer) retries() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.retry == nil {
		s.retry = make(chan struct{}, 1)
	}
	return s.retry
}

// Kick asks the Syncer to flush the outbox now.
func (s *Syncer) Kick() {
	select {
	case s.kicks() <- struct{}{}:
	default:
	}
}

func (s *Syncer) kicks() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kick == nil {
		s.kick = make(chan struct{}, 1)
	}
	return s.kick
}

// State returns the current connection state.
func (s *Syncer) State() string { return s.Status().State }

// Status returns the connection state, the failed attempts and when the
// next one starts.
func (s *Syncer) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	if st.State == "" {
		st.State = StateReconnecting
	}
	return st
}

// update changes the status and tells OnState (when the state changed) and
// OnStatus (always).
func (s *Syncer) update(change func(*Status)) {
	s.mu.Lock()
	before := s.status.State
	change(&s.status)
	st := s.status
	s.mu.Unlock()
	if st.State != before && s.OnState != nil {
		s.OnState(st.State)
	}
	if s.OnStatus != nil {
		s.OnStatus(st)
	}
}

func (s *Syncer) setState(state string) {
	if s.Status().State == state && state != StateOnline {
		return
	}
	s.update(func(st *Status) {
		st.State = state
		if state == StateOnline {
			*st = Status{State: state}
		}
	})
}

// Run syncs until ctx ends or the engine says the session is not valid.
func (s *Syncer) Run(ctx context.Context) {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Clock == nil {
		s.Clock = backend.SystemClock{}
	}
	if s.MinBackoff == 0 {
		s.MinBackoff = 250 * time.Millisecond
	}
	if s.MaxBackoff == 0 {
		s.MaxBackoff = 10 * time.Second
	}
	backoff, failures := s.MinBackoff, 0
	for ctx.Err() == nil {
		connected, err := s.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if backend.ErrorCode(err) == backend.EUnauthorized {
			s.setState(StateSignedOut)
			return
		}
		if errors.Is(err, errReconnect) {
			backoff, failures = s.MinBackoff, 0
			s.setState(StateReconnecting)
			continue
		}
		if connected {
			backoff, failures = s.MinBackoff, 0
		}
		failures++
		wait := jitter(backoff)
		s.update(func(st *Status) {
			st.State = StateReconnecting
			if failures >= 3 {
				st.State = StateOffline
			}
			st.Attempt, st.RetryAt, st.LastError = failures, s.Clock.Now().Add(wait), failureReason(err)
		})
		s.Logger.Debug("sync: reconnecting", "err", err, "in", wait)
		if !s.wait(ctx, wait) {
			backoff = s.MinBackoff
			continue
		}
		backoff = min(backoff*2, s.MaxBackoff)
	}
}

// wait sleeps for d on the Clock. It returns false early when Reconnect
// was called, and true when the time passed or ctx ended.
func (s *Syncer) wait(ctx context.Context, d time.Duration) bool {
	elapsed := make(chan struct{})
	stop := s.Clock.AfterFunc(d, func() { close(elapsed) })
	defer stop()
	select {
	case <-ctx.Done():
		return true
	case <-elapsed:
		return true
	case <-s.retries():
		s.update(func(st *Status) { st.RetryAt = time.Time{} })
		return false
	}
}

// failureReason says why an attempt failed: the engine's sentence, or for
// a connection that broke (no code) what broke, for the diagnostics.
func failureReason(err error) string {
	if backend.ErrorCode(err) == backend.EInternal {
		return "The connection to the server broke: " + err.Error() + "."
	}
	return backend.ErrorMessage(err)
}

// jitter spreads a wait within ±20%.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// session catches up over HTTP, then follows the live feed until it breaks.
// It reports whether it got as far as the live feed.
func (s *Syncer) session(ctx context.Context) (bool, error) {
	if err := s.catchUp(ctx); err != nil {
		return false, err
	}
	seq, err := s.Cache.LastSeq(ctx)
	if err != nil {
		return false, err
	}
	feed, err := s.Client.OpenFeed(ctx, seq)
	if err != nil {
		return false, err
	}
	feed.OnTyping = s.OnTyping
	feed.OnFrame = s.OnFrame
	s.setState(StateOnline)
	feedCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	dropped := make(chan struct{})
	go func() {
		select {
		case <-feedCtx.Done():
		case <-s.retries():
			close(dropped)
		}
		feed.Close()
	}()
	go s.outboxLoop(feedCtx)
	var acked int64
	var ackedAt time.Time
	for {
		events, next, err := feed.Next()
		select {
		case <-dropped:
			return true, errReconnect
		default:
		}
		if err != nil {
			return true, err
		}
		if err := s.apply(ctx, events, next); err != nil {
			return true, err
		}
		if now := s.Clock.Now(); next > acked && (acked == 0 || now.Sub(ackedAt) >= s.ackEvery()) {
			if err := feed.Ack(next); err != nil {
				return true, err
			}
			acked, ackedAt = next, now
		}
	}
}

// DefaultAckEvery is how often, at most, a live feed acknowledges how far
// the cache has applied it.
const DefaultAckEvery = 30 * time.Second

func (s *Syncer) ackEvery() time.Duration {
	if s.AckEvery > 0 {
		return s.AckEvery
	}
	return DefaultAckEvery
}

// catchUp pages through the change feed from the cache's cursor. Each page
// first checks that the cache still follows the same engine (Follow); the
// inbox hears about the pages once, at the end (OnChange), and about how
// far a long catch-up has come meanwhile (OnProgress), so it does not
// reshuffle under the agent while it runs.
func (s *Syncer) catchUp(ctx context.Context) error {
	start, changed, reported, began := int64(-1), false, false, time.Now()
	for {
		seq, err := s.Cache.LastSeq(ctx)
		if err != nil {
			return err
		}
		limit := s.PageSize
		if seq == 0 {
			limit = 1 // a fresh cache only asks whom it follows: it takes a snapshot
		}
		page, err := s.Client.Sync(ctx, seq, limit)
		if err != nil {
			return err
		}
		reset, held, err := s.Cache.Follow(ctx, page.Engine, page.Head)
		if err != nil {
			return err
		}
		if reset {
			s.Logger.Warn("sync: the engine's feed changed; the cache starts over", "engine", page.Engine.EngineID, "held", held)
			if s.OnReset != nil {
				s.OnReset(held)
			}
			start, changed = -1, true
			continue // read again from sequence 0
		}
		if seq == 0 || page.Behind {
			at, took, err := s.snapshot(ctx, page.Engine, page.Behind)
			if err != nil {
				return err
			}
			if took && at > 0 {
				start, changed = -1, true
				continue // follow the feed from the snapshot's sequence
			}
		}
		if start < 0 {
			start = seq
		}
		s.Fetched.Add(int64(len(page.Events)))
		n, err := s.Cache.ApplyPage(ctx, page.Events, page.Next)
		if err != nil {
			return err
		}
		if n > 0 {
			s.removed(page.Events)
		}
		changed = changed || n > 0
		if page.More && s.OnProgress != nil {
			reported = true
			s.OnProgress(page.Next-start, page.Head-start)
		}
		if !page.More {
			if reported {
				s.OnProgress(page.Next-start, page.Next-start)
				s.Logger.Info("sync: caught up", "events", page.Next-start, "took", time.Since(began).Round(time.Millisecond))
			}
			if changed {
				s.changed(ctx)
			}
			return nil
		}
	}
}

// changed tells OnChange the cursor after events were applied or the
// outbox changed.
func (s *Syncer) changed(ctx context.Context) {
	if s.OnChange != nil {
		seq, _ := s.Cache.LastSeq(ctx)
		s.OnChange(seq)
	}
}

// removed tells OnRemoved which conversations the user lost in events.
func (s *Syncer) removed(events []backend.Event) {
	if s.OnRemoved == nil {
		return
	}
	var gone []string
	for _, e := range events {
		if e.Type == backend.EventConversationRemoved {
			gone = append(gone, e.EntityID)
		}
	}
	if len(gone) > 0 {
		s.OnRemoved(gone)
	}
}

func (s *Syncer) apply(ctx context.Context, events []backend.Event, next int64) error {
	s.Fetched.Add(int64(len(events)))
	n, err := s.Cache.ApplyPage(ctx, events, next)
	if err != nil || n == 0 {
		return err
	}
	s.removed(events)
	s.changed(ctx)
	return nil
}

// outboxLoop sends queued replies while the feed is up: at once, and again
// whenever Kick is called.
func (s *Syncer) outboxLoop(ctx context.Context) {
	for {
		s.flush(ctx)
		select {
		case <-ctx.Done():
			return
		case <-s.kicks():
		}
	}
}

func (s *Syncer) flush(ctx context.Context) {
	pending, err := s.Cache.Pending(ctx)
	if err != nil {
		s.Logger.Error("outbox: list", "err", err)
		return
	}
	for _, p := range pending {
		_, err := s.Client.SendMessage(ctx, p.ConversationID, p.Text, p.ClientID, p.Private)
		switch backend.ErrorCode(err) {
		case "":
			err = s.Cache.Sent(ctx, p.ClientID)
		case backend.EUnavailable, backend.EInternal:
			s.Cache.Attempted(ctx, p.ClientID, backend.ErrorMessage(err))
			return // try again after the next reconnect or kick
		default:
			err = s.Cache.Rejected(ctx, p.ClientID, err)
		}
		if err != nil {
			s.Logger.Error("outbox: record", "err", err)
		}
		// The reply left the outbox: say so even when its engine copy came
		// on the feed before the send's answer, so nothing else follows.
		s.changed(ctx)
	}
}
