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

// snapshotMmap is how much of the store's file the connection that reads a
// snapshot maps into memory: a snapshot reads most of the messages table,
// a page at a time in the order of each conversation, and through the map
// each page is read without a system call or a copy into the small page
// cache. The map goes when the snapshot ends.
const snapshotMmap = 1 << 30

// SyncSnapshot implements backend.SnapshotService: one read transaction,
// whose first read fixes what it sees, on a connection that maps the file
// while it reads (snapshotMmap).
func (db *DB) SyncSnapshot(ctx context.Context, req backend.SnapshotRequest, sink backend.SnapshotSink) error {
	conn, err := db.r.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA mmap_size = %d`, snapshotMmap)); err != nil {
		return fmt.Errorf("map the store for a snapshot: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA mmap_size = 0`)
	tx, err := conn.BeginTx(ctx, nil)
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

// ConversationsByID implements storetx.SyncSnapshotReader.
func (r syncSnapshot) ConversationsByID(ctx context.Context, ids []string) ([]*backend.Conversation, error) {
	out, err := collect(ctx, r.q, `SELECT `+conversationColumns+` FROM conversations WHERE id IN (SELECT value FROM json_each(?))`,
		func(rows *sql.Rows) (*backend.Conversation, error) { return scanConversation(rows) }, jsonList(ids))
	if err != nil {
		return nil, fmt.Errorf("snapshot conversations: %w", err)
	}
	return out, nil
}

// ContactsByID implements storetx.SyncSnapshotReader.
func (r syncSnapshot) ContactsByID(ctx context.Context, ids []string) ([]*backend.Contact, error) {
	list := jsonList(ids)
	out, err := collect(ctx, r.q, `SELECT `+contactColumns+` FROM contacts WHERE id IN (SELECT value FROM json_each(?))`,
		func(rows *sql.Rows) (*backend.Contact, error) { return scanContact(rows) }, list)
	if err != nil {
		return nil, fmt.Errorf("snapshot contacts: %w", err)
	}
	byID := make(map[string]*backend.Contact, len(out))
	for _, c := range out {
		byID[c.ID] = c
	}
	rows, err := r.q.QueryContext(ctx, `SELECT contact_id, channel, external_id, display_name FROM identities
		WHERE contact_id IN (SELECT value FROM json_each(?)) ORDER BY contact_id, created_at, channel`, list)
	if err != nil {
		return nil, fmt.Errorf("snapshot identities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i backend.Identity
		if err := rows.Scan(&i.ContactID, &i.Channel, &i.ExternalID, &i.DisplayName); err != nil {
			return nil, err
		}
		if c := byID[i.ContactID]; c != nil {
			c.Identities = append(c.Identities, i)
		}
	}
	return out, rows.Err()
}

// RecentMessagesOf implements storetx.SyncSnapshotReader: for each
// conversation, the newest n entries of the index messages_conversation
// (n entries read, however long its history) and their rows.
func (r syncSnapshot) RecentMessagesOf(ctx context.Context, ids []string, n int) ([]*backend.Message, error) {
	out, err := collect(ctx, r.q, `SELECT `+messageColumns+` FROM (SELECT key AS pos, value AS conv FROM json_each(?1)) AS c, messages
		WHERE messages.rowid IN (SELECT rowid FROM messages AS i WHERE i.conversation_id = c.conv ORDER BY i.created_at DESC, i.rowid DESC LIMIT ?2)
		ORDER BY c.pos, messages.created_at, messages.rowid`,
		func(rows *sql.Rows) (*backend.Message, error) { return scanMessage(rows) }, jsonList(ids), n)
	if err != nil {
		return nil, fmt.Errorf("recent messages: %w", err)
	}
	return out, nil
}

// FlowExecutionsOf implements storetx.SyncSnapshotReader.
func (r syncSnapshot) FlowExecutionsOf(ctx context.Context, ids []string) ([]*backend.FlowExecution, error) {
	out, err := collect(ctx, r.q, `SELECT data, version FROM flow_executions WHERE conversation_id IN (SELECT value FROM json_each(?))`,
		func(rows *sql.Rows) (*backend.FlowExecution, error) { return scanFlowExecution(rows) }, jsonList(ids))
	if err != nil {
		return nil, fmt.Errorf("snapshot flow executions: %w", err)
	}
	return out, nil
}

// jsonList is ids as a JSON array, for json_each.
func jsonList(ids []string) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

// ContactIDs implements storetx.SyncSnapshotReader.
func (r syncSnapshot) ContactIDs(ctx context.Context) ([]string, error) {
	ids, err := stringList(ctx, r.q, `SELECT id FROM contacts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	return ids, nil
}
