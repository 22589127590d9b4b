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
// applying a batch twice changes nothing.
func (c *Cache) Apply(ctx context.Context, events []backend.Event) (applied int, err error) {
	if len(events) == 0 {
		return 0, nil
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var cursor int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'last_seq'), 0)`).Scan(&cursor); err != nil {
		return 0, err
	}
	for _, e := range events {
		if e.Seq <= cursor {
			continue
		}
		if err := applyEvent(ctx, tx, e); err != nil {
			return 0, fmt.Errorf("apply event %d (%s): %w", e.Seq, e.Type, err)
		}
		cursor = e.Seq
		applied++
	}
	if applied == 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('last_seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, cursor); err != nil {
		return 0, err
	}
	return applied, tx.Commit()
}

func applyEvent(ctx context.Context, tx *sql.Tx, e backend.Event) error {
	switch e.Type {
	case backend.EventContactUpserted:
		var ct backend.Contact
		if err := json.Unmarshal(e.Data, &ct); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO contacts (id, name, data) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data`, ct.ID, ct.Name, string(e.Data))
		return err
	case backend.EventConversationUpserted:
		var cv backend.Conversation
		if err := json.Unmarshal(e.Data, &cv); err != nil {
			return err
		}
		// A new conversation's first message is applied before it, so count
		// the unread inbound messages already here.
		_, err := tx.ExecContext(ctx, `INSERT INTO conversations (id, contact_id, channel, status, last_message_at, data, unread)
			VALUES (?, ?, ?, ?, ?, ?, (SELECT COUNT(*) FROM messages WHERE conversation_id = ?1 AND data ->> '$.direction' = 'in'))
			ON CONFLICT (id) DO UPDATE SET contact_id = excluded.contact_id, channel = excluded.channel, status = excluded.status,
			last_message_at = excluded.last_message_at, data = excluded.data`,
			cv.ID, cv.ContactID, cv.Channel, cv.Status, formatTime(cv.LastMessageAt), string(e.Data))
		return err
	case backend.EventMessageUpserted:
		return applyMessage(ctx, tx, e.Data)
	}
	if !strings.HasSuffix(e.Type, ".upserted") {
		return nil // events that carry no entity have nothing to cache
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO entities (type, id, data) VALUES (?, ?, ?)
		ON CONFLICT (type, id) DO UPDATE SET data = excluded.data`, strings.TrimSuffix(e.Type, ".upserted"), e.EntityID, string(e.Data))
	return err
}

func applyMessage(ctx context.Context, tx *sql.Tx, data []byte) error {
	var m backend.Message
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	if m.ClientID != "" {
		// The engine's copy replaces the one the outbox showed while sending.
		if _, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE id = ?`, localID(m.ClientID)); err != nil {
			return err
		}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO messages (id, conversation_id, client_id, created_at, text, data) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, m.ID, m.ConversationID, nullString(m.ClientID), formatTime(m.CreatedAt), m.Text, string(data))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		_, err := tx.ExecContext(ctx, `UPDATE messages SET conversation_id = ?, text = ?, data = ? WHERE id = ?`, m.ConversationID, m.Text, string(data), m.ID)
		return err
	}
	if m.Direction == backend.DirectionIn {
		_, err = tx.ExecContext(ctx, `UPDATE conversations SET unread = unread + 1 WHERE id = ?`, m.ConversationID)
	}
	return err
}

func localID(clientID string) string { return "local:" + clientID }

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
