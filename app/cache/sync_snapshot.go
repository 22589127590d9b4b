package cache

import (
	"context"
	"errors"
	"time"

	"switchboard/app/client"
	"switchboard/backend"
)

// snapshotBatch is how many of a snapshot's events the cache applies in
// one transaction.
const snapshotBatch = 10000

// snapshot fills the cache from the engine's snapshot of what the user may
// see, for the feed named id, and returns the sequence it is consistent
// with. It reports false, changing nothing, when the engine has no
// snapshot (an older engine) and the cache was not told it is behind the
// pruned floor: the feed from 0 still holds everything then. Unsent
// replies stay in the outbox throughout and are sent afterwards. The
// stream is read while the batch before is applied.
func (s *Syncer) snapshot(ctx context.Context, id backend.FeedIdentity, behind bool) (int64, bool, error) {
	if behind {
		s.Logger.Warn("sync: the engine pruned events this cache had not read; taking a snapshot")
	}
	if err := s.Cache.BeginSnapshot(ctx, id); err != nil {
		return 0, false, err
	}
	began := time.Now()
	var st client.SnapshotStart
	var convs int64
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches, applied := make(chan []backend.Event, 1), make(chan error, 1)
	go func() { applied <- s.applySnapshot(ctx, batches, &st) }()
	batch := make([]backend.Event, 0, snapshotBatch)
	send := func() error {
		select {
		case batches <- batch:
			batch = make([]backend.Event, 0, snapshotBatch)
			return nil
		case err := <-applied:
			applied <- err // the applier stopped early: say why below
			return errApplyStopped
		}
	}
	err := s.Client.Snapshot(ctx, 0, func(start client.SnapshotStart) error {
		if start.Engine != id {
			return backend.Errorf(backend.EUnavailable, "The engine changed while the snapshot started; syncing again.")
		}
		st = start
		return nil
	}, func(e backend.Event) error {
		batch = append(batch, e)
		if e.Type == backend.EventConversationUpserted {
			convs++
		}
		if len(batch) < snapshotBatch {
			return nil
		}
		return send()
	})
	if err == nil && len(batch) > 0 {
		err = send()
	}
	close(batches)
	if applyErr := <-applied; applyErr != nil && (err == nil || errors.Is(err, errApplyStopped)) {
		err = applyErr
	}
	if backend.ErrorCode(err) == backend.ENotFound && !behind {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if err := s.Cache.EndSnapshot(ctx, st.Seq, st.Messages); err != nil {
		return 0, false, err
	}
	if s.OnSnapshotProgress != nil {
		s.OnSnapshotProgress(convs, convs)
	}
	s.Logger.Info("sync: snapshot taken", "conversations", convs, "seq", st.Seq, "took", time.Since(began).Round(time.Millisecond))
	return st.Seq, true, nil
}

// errApplyStopped ends the snapshot's stream when applying it failed.
var errApplyStopped = errors.New("applying the snapshot stopped")

// applySnapshot applies the batches it receives until the channel closes,
// reporting progress (conversations applied) and telling the inbox after
// each. start is read only after the first batch, which the stream sends
// after its start line.
func (s *Syncer) applySnapshot(ctx context.Context, batches <-chan []backend.Event, start *client.SnapshotStart) error {
	var done int64
	for batch := range batches {
		if err := s.Cache.ApplySnapshot(ctx, batch); err != nil {
			return err
		}
		s.Fetched.Add(int64(len(batch)))
		for _, e := range batch {
			if e.Type == backend.EventConversationUpserted {
				done++
			}
		}
		if s.OnSnapshotProgress != nil {
			s.OnSnapshotProgress(done, max(int64(start.Conversations), done))
		}
		s.changed(ctx)
	}
	return nil
}

// LoadOlder brings a conversation's older messages from the engine when
// the snapshot that brought it left some there (Cache.HasOlder), and keeps
// them. It reports whether it loaded any; offline, it changes nothing and
// returns the engine's error.
func (s *Syncer) LoadOlder(ctx context.Context, conversationID string) (bool, error) {
	older, err := s.Cache.HasOlder(ctx, conversationID)
	if err != nil || !older {
		return false, err
	}
	msgs, err := s.Client.Messages(ctx, conversationID)
	if err != nil {
		return false, err
	}
	return true, s.Cache.ApplyHistory(ctx, conversationID, msgs)
}
