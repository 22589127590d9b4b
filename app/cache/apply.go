package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"switchboard/backend"
)

// Apply applies a batch of change-feed events in one transaction and moves
// the cursor to the last one. Events at or below the cursor are skipped, so
// applying a batch twice changes nothing. Within a batch several events
// may share a sequence: a conversation brought with its history arrives as
// several events at the position of the access change that brought it.
func (c *Cache) Apply(ctx context.Context, events []backend.Event) (applied int, err error) {
	return c.ApplyPage(ctx, events, 0)
}

// ApplyPage is Apply for a page of the per-user feed that looked at the log
// up to next: the cursor moves to next even when none of the events there
// was for this user.
func (c *Cache) ApplyPage(ctx context.Context, events []backend.Event, next int64) (applied int, err error) {
	if len(events) == 0 && next == 0 {
		return 0, nil
	}
	err = c.batch(ctx, func(a *applier) (bool, error) {
		var cursor int64
		if err := a.tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'last_seq'), 0)`).Scan(&cursor); err != nil {
			return false, err
		}
		start := cursor
		for _, e := range events {
			if e.Seq <= start {
				continue
			}
			if err := a.apply(ctx, e); err != nil {
				return false, fmt.Errorf("apply event %d (%s): %w", e.Seq, e.Type, err)
			}
			cursor = e.Seq
			applied++
		}
		cursor = max(cursor, next)
		if applied == 0 && cursor == start {
			return false, nil
		}
		_, err := a.exec(ctx, `INSERT INTO meta (key, value) VALUES ('last_seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, cursor)
		return true, err
	})
	if err != nil {
		return 0, err
	}
	return applied, nil
}

// batch runs work in one transaction through an applier, then adds the
// messages it inserted to the full-text index and commits; work that
// reports nothing to keep (false) is rolled back.
func (c *Cache) batch(ctx context.Context, work func(a *applier) (keep bool, err error)) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	before, err := maxRowID(ctx, tx)
	if err != nil {
		return err
	}
	a := &applier{tx: tx, stmts: map[string]*sql.Stmt{}, indexed: before}
	defer a.close()
	keep, err := work(a)
	if err != nil || !keep {
		return err
	}
	if err := indexNew(ctx, tx, before); err != nil {
		return fmt.Errorf("index messages: %w", err)
	}
	return tx.Commit()
}

// applier applies events inside one transaction, preparing each statement
// once per batch.
type applier struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	// indexed is the last rowid in the full-text index; rows after it are
	// indexed when the batch ends.
	indexed int64
}

// reindex keeps the full-text index right when an indexed row's text
// changes or the row goes away (newText "" with remove).
func (a *applier) reindex(ctx context.Context, rowid int64, oldText, newText string, remove bool) error {
	if rowid > a.indexed || (!remove && oldText == newText) {
		return nil
	}
	if _, err := a.exec(ctx, `INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', ?, ?)`, rowid, oldText); err != nil {
		return err
	}
	if remove {
		return nil
	}
	_, err := a.exec(ctx, `INSERT INTO messages_fts (rowid, text) VALUES (?, ?)`, rowid, newText)
	return err
}

// row returns a message row's rowid and text, or ok=false.
func (a *applier) row(ctx context.Context, id string) (rowid int64, text string, ok bool, err error) {
	st, err := a.stmt(ctx, `SELECT rowid, text FROM messages WHERE id = ?`)
	if err != nil {
		return 0, "", false, err
	}
	err = st.QueryRowContext(ctx, id).Scan(&rowid, &text)
	if err == sql.ErrNoRows {
		return 0, "", false, nil
	}
	return rowid, text, err == nil, err
}

func (a *applier) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st, ok := a.stmts[query]
	if !ok {
		var err error
		if st, err = a.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		a.stmts[query] = st
	}
	return st, nil
}

func (a *applier) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := a.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (a *applier) close() {
	for _, st := range a.stmts {
		st.Close()
	}
}

func (a *applier) apply(ctx context.Context, e backend.Event) error {
	switch e.Type {
	case backend.EventContactUpserted:
		var ct backend.Contact
		if err := json.Unmarshal(e.Data, &ct); err != nil {
			return err
		}
		_, err := a.exec(ctx, `INSERT INTO contacts (id, name, data) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data`, ct.ID, ct.Name, string(e.Data))
		return err
	case backend.EventConversationUpserted:
		var cv backend.Conversation
		if err := json.Unmarshal(e.Data, &cv); err != nil {
			return err
		}
		res, err := a.exec(ctx, `UPDATE conversations SET contact_id = ?, channel = ?, status = ?, last_message_at = ?, data = ? WHERE id = ?`,
			cv.ContactID, cv.Channel, cv.Status, formatTime(cv.LastMessageAt), string(e.Data), cv.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		// A new conversation's first message is applied before it, so count
		// the unread inbound messages already here.
		_, err = a.exec(ctx, `INSERT INTO conversations (id, contact_id, channel, status, last_message_at, data, unread)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT COUNT(*) FROM messages WHERE conversation_id = ?1 AND data ->> '$.direction' = 'in'))`,
			cv.ID, cv.ContactID, cv.Channel, cv.Status, formatTime(cv.LastMessageAt), string(e.Data))
		return err
	case backend.EventMessageUpserted:
		return a.message(ctx, e.Data)
	case backend.EventOfferMissed:
		_, err := a.exec(ctx, `INSERT OR IGNORE INTO entities (type, id, data) VALUES (?, ?, ?)`, EntityMissedOffer, e.EntityID, string(e.Data))
		return err
	case backend.EventConversationRemoved:
		return a.removeConversation(ctx, e.EntityID)
	}
	if typ, ok := strings.CutSuffix(e.Type, ".deleted"); ok {
		_, err := a.exec(ctx, `DELETE FROM entities WHERE type = ? AND id = ?`, typ, e.EntityID)
		return err
	}
	if !strings.HasSuffix(e.Type, ".upserted") {
		return nil // events that carry no entity have nothing to cache
	}
	_, err := a.exec(ctx, `INSERT INTO entities (type, id, data) VALUES (?, ?, ?)
		ON CONFLICT (type, id) DO UPDATE SET data = excluded.data`, strings.TrimSuffix(e.Type, ".upserted"), e.EntityID, string(e.Data))
	return err
}

func (a *applier) message(ctx context.Context, data []byte) error {
	var m backend.Message
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	if m.ClientID != "" {
		// The engine's copy replaces the one the outbox showed while sending.
		rowid, text, ok, err := a.row(ctx, localID(m.ClientID))
		if err != nil {
			return err
		}
		if ok {
			if err := a.reindex(ctx, rowid, text, "", true); err != nil {
				return err
			}
			if _, err := a.exec(ctx, `DELETE FROM messages WHERE rowid = ?`, rowid); err != nil {
				return err
			}
		}
	}
	rowid, oldText, exists, err := a.row(ctx, m.ID)
	if err != nil {
		return err
	}
	if exists {
		if _, err := a.exec(ctx, `UPDATE messages SET conversation_id = ?, text = ?, data = ? WHERE rowid = ?`, m.ConversationID, m.Text, string(data), rowid); err != nil {
			return err
		}
		return a.reindex(ctx, rowid, oldText, m.Text, false)
	}
	if _, err := a.exec(ctx, `INSERT INTO messages (id, conversation_id, client_id, created_at, text, data) VALUES (?, ?, ?, ?, ?, ?)`,
		m.ID, m.ConversationID, nullString(m.ClientID), formatTime(m.At()), m.Text, string(data)); err != nil {
		return err
	}
	if m.Direction == backend.DirectionIn {
		_, err = a.exec(ctx, `UPDATE conversations SET unread = unread + 1 WHERE id = ?`, m.ConversationID)
	}
	return err
}

func localID(clientID string) string { return "local:" + clientID }

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// removeConversation drops a conversation the user no longer may read: its
// messages and notes (with their search entries), its tasks and flow state,
// and its contact when no other conversation of theirs is left. Replies
// still waiting in the outbox stay; the engine refuses them and they show
// as failed.
func (a *applier) removeConversation(ctx context.Context, id string) error {
	if _, err := a.exec(ctx, `INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', rowid, text FROM messages
		WHERE conversation_id = ? AND id NOT LIKE 'local:%' AND rowid <= ?`, id, a.indexed); err != nil {
		return fmt.Errorf("remove conversation: %w", err)
	}
	for _, q := range []string{
		`DELETE FROM messages WHERE conversation_id = ?1 AND id NOT LIKE 'local:%'`,
		`DELETE FROM entities WHERE type IN ('task', 'flow_execution') AND data ->> '$.conversationId' = ?1`,
		`DELETE FROM contacts WHERE id = (SELECT contact_id FROM conversations WHERE id = ?1)
			AND NOT EXISTS (SELECT 1 FROM conversations WHERE contact_id = contacts.id AND id <> ?1)`,
		`DELETE FROM conversations WHERE id = ?1`,
	} {
		if _, err := a.exec(ctx, q, id); err != nil {
			return fmt.Errorf("remove conversation: %w", err)
		}
	}
	return nil
}
