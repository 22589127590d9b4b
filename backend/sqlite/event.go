package sqlite

import (
	"context"
	"fmt"

	"switchboard/backend"
)

// eventsSinceQuery reads the feed after a position: a range of the
// events' rowid, so it touches only the events it returns.
const eventsSinceQuery = `SELECT seq, type, entity_id, data, created_at FROM events WHERE seq > ? ORDER BY seq LIMIT ?`

// EventsSince implements backend.EventService.
func (db *DB) EventsSince(ctx context.Context, since int64, limit int) ([]backend.Event, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	rows, err := db.r.QueryContext(ctx, eventsSinceQuery, since, limit)
	if err != nil {
		return nil, fmt.Errorf("events since %d: %w", since, err)
	}
	defer rows.Close()
	var out []backend.Event
	for rows.Next() {
		var e backend.Event
		var data, at string
		if err := rows.Scan(&e.Seq, &e.Type, &e.EntityID, &data, &at); err != nil {
			return nil, err
		}
		e.Data = []byte(data)
		e.CreatedAt = parseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastSeq implements backend.EventService.
func (db *DB) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := db.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("last seq: %w", err)
	}
	return seq, nil
}

// FeedIdentity implements backend.EventService.
func (db *DB) FeedIdentity(ctx context.Context) (backend.FeedIdentity, error) {
	var id backend.FeedIdentity
	err := db.r.QueryRowContext(ctx, `SELECT (SELECT value FROM engine_meta WHERE key = 'engine_id'),
		(SELECT value FROM engine_meta WHERE key = 'feed_epoch')`).Scan(&id.EngineID, &id.Epoch)
	if err != nil {
		return id, fmt.Errorf("feed identity: %w", err)
	}
	return id, nil
}
