package sqlite

import (
	"context"
	"database/sql"
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

// SyncSnapshot implements backend.SnapshotService: one read transaction,
// whose first read fixes what it sees.
func (db *DB) SyncSnapshot(ctx context.Context, req backend.SnapshotRequest, sink backend.SnapshotSink) error {
	tx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := &preparedTx{tx: tx, stmts: map[string]*sql.Stmt{}}
	defer q.close()
	return storetx.SyncSnapshot(ctx, syncSnapshot{snapshot{q}}, req, sink)
}

// preparedTx reads through one transaction, preparing each statement once:
// a snapshot runs the same few queries for every conversation.
type preparedTx struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (p *preparedTx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st, ok := p.stmts[query]
	if !ok {
		var err error
		if st, err = p.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		p.stmts[query] = st
	}
	return st, nil
}

// QueryContext implements queryer.
func (p *preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext implements queryer.
func (p *preparedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return p.tx.QueryRowContext(ctx, query, args...) // answers with the same error
	}
	return st.QueryRowContext(ctx, args...)
}

func (p *preparedTx) close() {
	for _, st := range p.stmts {
		st.Close()
	}
}

// syncSnapshot reads a sync snapshot through one read transaction.
type syncSnapshot struct{ snapshot }

var _ storetx.SyncSnapshotReader = syncSnapshot{}

// LastSeq implements storetx.SyncSnapshotReader.
func (r syncSnapshot) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := r.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&seq); err != nil {
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
	list, _ := json.Marshal(slices.Collect(maps.Keys(readable)))
	ids, err := stringList(ctx, r.q, `SELECT id FROM conversations WHERE id IN (SELECT value FROM json_each(?))
		ORDER BY last_message_at DESC, id`, string(list))
	return ids, readable, err
}

// LatestEvents implements storetx.SyncSnapshotReader.
func (r syncSnapshot) LatestEvents(ctx context.Context, seq int64, emit func(backend.Event) error) error {
	rows, err := r.q.QueryContext(ctx, `SELECT seq, type, entity_id, data, created_at FROM events e
		WHERE seq IN (SELECT MAX(seq) FROM events WHERE `+fromLog+` AND seq <= ? GROUP BY type, entity_id)
		ORDER BY seq`, seq)
	if err != nil {
		return fmt.Errorf("latest events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e backend.Event
		var data, at string
		if err := rows.Scan(&e.Seq, &e.Type, &e.EntityID, &data, &at); err != nil {
			return err
		}
		e.Data, e.CreatedAt = []byte(data), parseTime(at)
		if err := emit(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// RecentMessages implements storetx.SyncSnapshotReader.
func (r syncSnapshot) RecentMessages(ctx context.Context, conversationID string, n int) ([]*backend.Message, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT * FROM (SELECT `+messageColumns+`, rowid AS r FROM messages WHERE conversation_id = ?
		ORDER BY created_at DESC, rowid DESC LIMIT ?) ORDER BY created_at, r`, conversationID, n)
	if err != nil {
		return nil, fmt.Errorf("recent messages: %w", err)
	}
	defer rows.Close()
	out := []*backend.Message{}
	for rows.Next() {
		var rowid int64
		m, err := scanMessage(suffixScanner{rows, []any{&rowid}})
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// ContactIDs implements storetx.SyncSnapshotReader.
func (r syncSnapshot) ContactIDs(ctx context.Context) ([]string, error) {
	ids, err := stringList(ctx, r.q, `SELECT id FROM contacts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	return ids, nil
}
