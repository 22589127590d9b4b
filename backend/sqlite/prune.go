package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"switchboard/backend"
)

// pruneChunk bounds the events one pruning transaction deletes, so the
// writer is never held for long.
const pruneChunk = 5000

// RecordFeedCursor implements backend.SnapshotService. A cursor only moves
// forward; a session that no longer exists records nothing.
func (db *DB) RecordFeedCursor(ctx context.Context, sessionID string, seq int64) error {
	return db.update(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO feed_cursors (session_id, seq, updated_at)
			SELECT token_hash, ?2, ?3 FROM sessions WHERE token_hash = ?1
			ON CONFLICT (session_id) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at
			WHERE excluded.seq > feed_cursors.seq`, sessionID, seq, formatTime(tx.Now()))
		if err != nil {
			return fmt.Errorf("record feed cursor: %w", err)
		}
		return nil
	})
}

// FeedFloor implements backend.SnapshotService.
func (db *DB) FeedFloor(ctx context.Context) (int64, error) {
	return feedFloor(ctx, db.r)
}

func feedFloor(ctx context.Context, q queryer) (int64, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM engine_meta WHERE key = 'feed_floor'`).Scan(&v)
	if err == sql.ErrNoRows {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("feed floor: %w", err)
	}
	return strconv.ParseInt(v, 10, 64)
}

// PruneEvents implements backend.SnapshotService. It deletes in chunks of
// pruneChunk events, each in its own transaction that also raises the
// floor, so a reader never sees an event gone without the floor above it,
// then gives the pages they held back to the file system (vacuum.go).
func (db *DB) PruneEvents(ctx context.Context, req backend.PruneRequest) (backend.PruneResult, error) {
	var res backend.PruneResult
	upTo, err := db.prunable(ctx, req)
	if err != nil {
		return res, err
	}
	for {
		var n int64
		err := db.update(ctx, func(tx *Tx) error {
			var err error
			n, err = pruneChunkTx(ctx, tx, upTo, &res)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("prune events: %w", err)
		}
		res.Deleted += n
		if n < pruneChunk {
			break
		}
	}
	if res.Floor == 0 {
		if res.Floor, err = db.FeedFloor(ctx); err != nil {
			return res, err
		}
	}
	if res.Deleted == 0 {
		return res, nil
	}
	return res, db.giveBackPages(ctx)
}

// prunable returns the newest sequence pruning may reach: what every live
// session has read and is past the grace period, or what is past the
// retention horizon; never the newest event (the feed's head).
func (db *DB) prunable(ctx context.Context, req backend.PruneRequest) (int64, error) {
	var head, desks, grace, retained int64
	err := db.r.QueryRowContext(ctx, `SELECT COALESCE((SELECT MAX(seq) FROM events), 0),
		COALESCE((SELECT MIN(c.seq) FROM feed_cursors c JOIN sessions s ON s.token_hash = c.session_id WHERE s.expires_at > ?1), ?4),
		COALESCE((SELECT MAX(seq) FROM events WHERE created_at < ?2), 0),
		COALESCE((SELECT MAX(seq) FROM events WHERE created_at < ?3), 0)`,
		formatTime(req.Now), formatTime(req.Now.Add(-req.Grace)), formatTime(req.Now.Add(-req.Retention)), int64(1<<62)).
		Scan(&head, &desks, &grace, &retained)
	if err != nil {
		return 0, fmt.Errorf("prune bounds: %w", err)
	}
	return min(max(min(desks, grace), retained), head-1), nil
}

// pruneChunkTx deletes up to pruneChunk prunable events at or below upTo
// and raises the floor to the newest one it deleted.
func pruneChunkTx(ctx context.Context, tx *Tx, upTo int64, res *backend.PruneResult) (int64, error) {
	rows, err := tx.QueryContext(ctx, `DELETE FROM events WHERE seq IN (SELECT seq FROM events e WHERE seq <= ?1 AND NOT (`+fromLog+` AND NOT EXISTS (
			SELECT 1 FROM events l WHERE l.`+fromLog+` AND l.type = e.type AND l.entity_id = e.entity_id AND l.seq > e.seq))
			ORDER BY seq LIMIT ?2) RETURNING seq`, upTo, pruneChunk)
	if err != nil {
		return 0, err
	}
	var n, newest int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			rows.Close()
			return 0, err
		}
		n, newest = n+1, max(newest, seq)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return 0, err
	}
	if err := rows.Close(); err != nil || n == 0 {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE engine_meta SET value = ?1 WHERE key = 'feed_floor' AND CAST(value AS INTEGER) < ?1`, newest); err != nil {
		return 0, err
	}
	res.Floor = max(res.Floor, newest)
	return n, nil
}
