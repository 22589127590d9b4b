package api

import (
	"context"
	"time"

	"switchboard/backend"
)

// Pruning of the change log: events every desktop (signed-in session) has
// read, by the cursors their sync requests recorded, and older than
// PruneGrace are deleted every pruneEvery; events older than
// EventRetention are deleted whether read or not. A desktop whose cursor
// falls below the floor this leaves is told so by GET /api/sync and takes
// a snapshot (GET /api/sync/snapshot) instead.

// DefaultPruneGrace keeps the newest events for the readers inside the
// engine that follow the feed near its head (the live hub, the web chat,
// voice, other nodes), however far desktops have read.
const DefaultPruneGrace = 10 * time.Minute

// pruneEvery is how often the change log is pruned.
const pruneEvery = 10 * time.Minute

// pruneEvents prunes the change log every pruneEvery, from the first
// period on (never at start, so an engine restarted with old events gives
// its desktops time to sync first).
func (s *Server) pruneEvents(ctx context.Context) {
	if s.EventRetention <= 0 {
		return
	}
	s.Clock.AfterFunc(pruneEvery, func() {
		if ctx.Err() != nil {
			return
		}
		grace := s.PruneGrace
		if grace <= 0 {
			grace = DefaultPruneGrace
		}
		res, err := s.Store.PruneEvents(ctx, backend.PruneRequest{Now: s.Clock.Now(), Grace: grace, Retention: s.EventRetention})
		if err != nil {
			s.Logger.Error("prune events", "err", err)
		} else if res.Deleted > 0 {
			s.Logger.Info("pruned the change log", "events", res.Deleted, "floor", res.Floor)
		}
		s.pruneEvents(ctx)
	})
}
