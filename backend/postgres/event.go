package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard/backend"
)

func marshalEvent(typ string, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal event %s: %w", typ, err)
	}
	return data, nil
}

// EventsSince implements backend.EventService.
func (db *DB) EventsSince(ctx context.Context, since int64, limit int) ([]backend.Event, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	rows, err := db.pool.Query(ctx, `SELECT seq, type, entity_id, data::text, created_at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`, since, limit)
	if err != nil {
		return nil, fmt.Errorf("events since %d: %w", since, err)
	}
	defer rows.Close()
	var out []backend.Event
	for rows.Next() {
		var e backend.Event
		var data string
		if err := rows.Scan(&e.Seq, &e.Type, &e.EntityID, &data, at{&e.CreatedAt}); err != nil {
			return nil, err
		}
		e.Data = json.RawMessage(data)
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastSeq implements backend.EventService.
func (db *DB) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := db.pool.QueryRow(ctx, `SELECT last FROM event_counter WHERE id = 1`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("last seq: %w", err)
	}
	return seq, nil
}

// FeedIdentity implements backend.EventService.
func (db *DB) FeedIdentity(ctx context.Context) (backend.FeedIdentity, error) {
	var id backend.FeedIdentity
	err := db.pool.QueryRow(ctx, `SELECT (SELECT value FROM engine_meta WHERE key = 'engine_id'),
		(SELECT value FROM engine_meta WHERE key = 'feed_epoch')`).Scan(&id.EngineID, &id.Epoch)
	if err != nil {
		return id, fmt.Errorf("feed identity: %w", err)
	}
	return id, nil
}
