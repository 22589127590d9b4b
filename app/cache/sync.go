package cache

import (
	"context"
	"log/slog"
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
	// OnChange is called after events were applied, with the new cursor.
	OnChange func(lastSeq int64)
	// OnState is called when the connection state changes.
	OnState func(state string)
	// OnProgress, when set, is told how many of the feed's events a long
	// catch-up (more than one page) has applied so far, of how many.
	OnProgress func(done, total int64)
	// OnReset, when set, is told that the cache started over because the
	// engine's feed changed, with how many unsent replies it held back.
	OnReset func(held int)
	// OnTyping, when set, sees the engine's typing signals.
	OnTyping func(client.Typing)
	// MinBackoff and MaxBackoff bound the wait between reconnects.
	MinBackoff, MaxBackoff time.Duration

	// Fetched counts events received from the engine (feed pages and live).
	Fetched atomic.Int64

	kick  chan struct{}
	mu    sync.Mutex
	state string
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
func (s *Syncer) State() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == "" {
		return StateReconnecting
	}
	return s.state
}

func (s *Syncer) setState(state string) {
	s.mu.Lock()
	changed := s.state != state
	s.state = state
	s.mu.Unlock()
	if changed && s.OnState != nil {
		s.OnState(state)
	}
}

// Run syncs until ctx ends or the engine says the session is not valid.
func (s *Syncer) Run(ctx context.Context) {
	if s.Logger == nil {
		s.Logger = slog.Default()
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
		if connected {
			backoff, failures = s.MinBackoff, 0
		}
		failures++
		if failures >= 3 {
			s.setState(StateOffline)
		} else {
			s.setState(StateReconnecting)
		}
		s.Logger.Debug("sync: reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, s.MaxBackoff)
	}
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
	s.setState(StateOnline)
	feedCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-feedCtx.Done()
		feed.Close()
	}()
	go s.outboxLoop(feedCtx)
	for {
		events, err := feed.Next()
		if err != nil {
			return true, err
		}
		if err := s.apply(ctx, events); err != nil {
			return true, err
		}
	}
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
		page, err := s.Client.Sync(ctx, seq, 0)
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
		if start < 0 {
			start = seq
		}
		s.Fetched.Add(int64(len(page.Events)))
		n, err := s.Cache.Apply(ctx, page.Events)
		if err != nil {
			return err
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

// changed tells OnChange the cursor after events were applied.
func (s *Syncer) changed(ctx context.Context) {
	if s.OnChange != nil {
		seq, _ := s.Cache.LastSeq(ctx)
		s.OnChange(seq)
	}
}

func (s *Syncer) apply(ctx context.Context, events []backend.Event) error {
	s.Fetched.Add(int64(len(events)))
	n, err := s.Cache.Apply(ctx, events)
	if err != nil || n == 0 {
		return err
	}
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
			s.changed(ctx)
		}
		if err != nil {
			s.Logger.Error("outbox: record", "err", err)
		}
	}
}
