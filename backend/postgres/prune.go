package postgres

import (
	"context"
	"fmt"
	"strconv"

	"switchboard/backend"
)

// pruneChunk bounds the events one pruning transaction deletes.
const pruneChunk = 5000

// RecordFeedCursor implements backend.SnapshotService. A cursor only moves
// forward; a session that no longer exists records nothing.
func (db *DB) RecordFeedCursor(ctx context.Context, sessionID string, seq int64) error {
	return db.update(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO feed_cursors (session_id, seq, updated_at)
			SELECT token_hash, $2, $3 FROM sessions WHERE token_hash = $1
			ON CONFLICT (session_id) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at
			WHERE excluded.seq > feed_cursors.seq`, sessionID, seq, tx.Now())
		if err != nil {
			return fmt.Errorf("record feed cursor: %w", err)
		}
		return nil
	})
}

// FeedFloor implements backend.SnapshotService.
func (db *DB) FeedFloor(ctx context.Context) (int64, error) {
	var v string
	if err := db.pool.QueryRow(ctx, `SELECT COALESCE((SELECT value FROM engine_meta WHERE key = 'feed_floor'), '0')`).Scan(&v); err != nil {
		return 0, fmt.Errorf("feed floor: %w", err)
	}
	return strconv.ParseInt(v, 10, 64)
}

// PruneEvents implements backend.SnapshotService, in chunks of pruneChunk
// events, each in a transaction that also raises the floor.
func (db *DB) PruneEvents(ctx context.Context, req backend.PruneRequest) (backend.PruneResult, error) {
	var res backend.PruneResult
	var upTo int64
	err := db.pool.QueryRow(ctx, `SELECT LEAST(GREATEST(LEAST(
			COALESCE((SELECT MIN(c.seq) FROM feed_cursors c JOIN sessions s ON s.token_hash = c.session_id WHERE s.expires_at > $1), $4),
			COALESCE((SELECT MAX(seq) FROM events WHERE created_at < $2), 0)),
			COALESCE((SELECT MAX(seq) FROM events WHERE created_at < $3), 0)),
		(SELECT last FROM event_counter WHERE id = 1) - 1)`,
		req.Now, req.Now.Add(-req.Grace), req.Now.Add(-req.Retention), int64(1<<62)).Scan(&upTo)
	if err != nil {
		return res, fmt.Errorf("prune bounds: %w", err)
	}
	for {
		var n, newest int64
		err := db.update(ctx, func(tx *Tx) error {
			err := tx.QueryRow(ctx, `WITH gone AS (DELETE FROM events WHERE seq IN (SELECT seq FROM events e WHERE seq <= $1 AND NOT (`+fromLog+` AND NOT EXISTS (
					SELECT 1 FROM events l WHERE l.`+fromLog+` AND l.type = e.type AND l.entity_id = e.entity_id AND l.seq > e.seq))
					ORDER BY seq LIMIT $2) RETURNING seq),
				f AS (UPDATE engine_meta SET value = (SELECT MAX(seq) FROM gone)::text
					WHERE key = 'feed_floor' AND value::bigint < (SELECT COALESCE(MAX(seq), 0) FROM gone))
				SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM gone`, upTo, pruneChunk).Scan(&n, &newest)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("prune events: %w", err)
		}
		res.Deleted, res.Floor = res.Deleted+n, max(res.Floor, newest)
		if n < pruneChunk {
			break
		}
	}
	if res.Floor == 0 {
		res.Floor, err = db.FeedFloor(ctx)
	}
	return res, err
}
