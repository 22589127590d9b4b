package cache

import (
	"context"
	"time"

	"switchboard/app/client"
	"switchboard/backend"
)

// snapshotBatch is how many of a snapshot's events the cache applies in
// one transaction.
const snapshotBatch = 10000

// snapshot fills the cache from the engine's snapshot of what the user may
// see, for the feed named id, and returns the sequence it is consistent
// with. It reports false, changing nothing, when the
// engine has no snapshot (an older engine) and the cache was not told it
// is behind the pruned floor: the feed from 0 still holds everything then.
// Unsent replies stay in the outbox throughout and are sent afterwards.
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
	batch := make([]backend.Event, 0, snapshotBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := s.Cache.ApplySnapshot(ctx, batch); err != nil {
			return err
		}
		s.Fetched.Add(int64(len(batch)))
		batch = batch[:0]
		if s.OnSnapshotProgress != nil {
			s.OnSnapshotProgress(convs, max(int64(st.Conversations), convs))
		}
		s.changed(ctx)
		return nil
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
		return flush()
	})
	if backend.ErrorCode(err) == backend.ENotFound && !behind {
		return 0, false, nil
	}
	if err == nil {
		err = flush()
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
