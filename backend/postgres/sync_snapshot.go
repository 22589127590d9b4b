package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"switchboard/backend"
	"switchboard/backend/internal/storetx"
)

var _ backend.SnapshotService = (*DB)(nil)

// fromLog is the condition on an event's type that a snapshot takes from
// the log; the partial index events_entity (migration 0800) is on it.
var fromLog = "type NOT IN ('" + strings.Join(backend.SnapshotTableTypes, "', '") + "')"

// SyncSnapshot implements backend.SnapshotService in one repeatable-read
// transaction.
func (db *DB) SyncSnapshot(ctx context.Context, req backend.SnapshotRequest, sink backend.SnapshotSink) error {
	tx, err := db.pool.BeginTx(ctx, pgxReadOnly)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	return storetx.SyncSnapshot(ctx, syncSnapshot{snapshot{tx}}, req, sink)
}

// syncSnapshot reads a sync snapshot through one read transaction.
type syncSnapshot struct{ snapshot }

var _ storetx.SyncSnapshotReader = syncSnapshot{}

// LastSeq implements storetx.SyncSnapshotReader.
func (r syncSnapshot) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := r.q.QueryRow(ctx, `SELECT last FROM event_counter WHERE id = 1`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("last seq: %w", err)
	}
	return seq, nil
}

// SnapshotConversations implements storetx.SyncSnapshotReader.
func (r syncSnapshot) SnapshotConversations(ctx context.Context, readerID string) ([]string, map[string]string, error) {
	if readerID == "" {
		ids, err := stringList(ctx, r.q, `SELECT id FROM conversations ORDER BY last_message_at DESC, id`)
		return ids, nil, err
	}
	readable, err := readableConversations(ctx, r.q, readerID)
	if err != nil {
		return nil, nil, err
	}
	ids, err := stringList(ctx, r.q, `SELECT id FROM conversations WHERE id = ANY ($1) ORDER BY last_message_at DESC, id`,
		slices.Collect(maps.Keys(readable)))
	return ids, readable, err
}

// LatestEvents implements storetx.SyncSnapshotReader.
func (r syncSnapshot) LatestEvents(ctx context.Context, seq int64, emit func(backend.Event) error) error {
	rows, err := r.q.Query(ctx, `SELECT seq, type, entity_id, data::text, created_at FROM events
		WHERE seq IN (SELECT MAX(seq) FROM events WHERE `+fromLog+` AND seq <= $1 GROUP BY type, entity_id)
		ORDER BY seq`, seq)
	if err != nil {
		return fmt.Errorf("latest events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e backend.Event
		var data string
		if err := rows.Scan(&e.Seq, &e.Type, &e.EntityID, &data, at{&e.CreatedAt}); err != nil {
			return err
		}
		e.Data = json.RawMessage(data)
		if err := emit(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// RecentMessages implements storetx.SyncSnapshotReader.
func (r syncSnapshot) RecentMessages(ctx context.Context, conversationID string, n int) ([]*backend.Message, error) {
	out, err := collect(ctx, r.q, messageScan, `SELECT `+messageColumns+` FROM (SELECT * FROM messages WHERE conversation_id = $1
		ORDER BY created_at DESC, pos DESC NULLS FIRST, id DESC LIMIT $2) m ORDER BY created_at, pos NULLS LAST, id`, conversationID, n)
	if err != nil {
		return nil, fmt.Errorf("recent messages: %w", err)
	}
	if out == nil {
		out = []*backend.Message{}
	}
	return out, nil
}

// ContactIDs implements storetx.SyncSnapshotReader.
func (r syncSnapshot) ContactIDs(ctx context.Context) ([]string, error) {
	ids, err := stringList(ctx, r.q, `SELECT id FROM contacts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	return ids, nil
}
