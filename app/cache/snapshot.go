package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"switchboard/backend"
)

// A fresh cache, or one whose cursor fell below the engine's pruned floor,
// fills itself from a snapshot of what the user may see: BeginSnapshot
// empties what was synced (keeping the outbox and the replies shown from
// it), ApplySnapshot adds the snapshot's entities in large transactions as
// they stream in, and EndSnapshot sets the cursor to the snapshot's
// sequence, so the feed follows on from there. Until EndSnapshot the
// cursor stays at 0: a snapshot cut short is taken again from the start.

// BeginSnapshot prepares the cache for a snapshot of the feed named id.
func (c *Cache) BeginSnapshot(ctx context.Context, id backend.FeedIdentity) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		`DELETE FROM messages_fts`,
		`DELETE FROM messages WHERE id NOT LIKE 'local:%'`,
		`INSERT INTO messages_fts (rowid, text) SELECT rowid, text FROM messages`,
		`DELETE FROM conversations`, `DELETE FROM contacts`, `DELETE FROM entities`, `DELETE FROM meta WHERE key = 'last_seq'`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("begin snapshot: %w", err)
		}
	}
	for k, v := range map[string]string{"engine_id": id.EngineID, "feed_epoch": id.Epoch} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// ApplySnapshot applies a batch of a snapshot's events in one transaction,
// without moving the cursor. Messages go in with multi-row INSERTs (a
// snapshot brings each once, after its conversation, into a cache that
// BeginSnapshot emptied), and the batch's conversations add the inbound
// messages counted here to their unread count; the outbox's copies of
// replies the engine has already stored then go away, and the batch's
// messages enter the search index before it commits.
func (c *Cache) ApplySnapshot(ctx context.Context, events []backend.Event) error {
	return c.batch(ctx, func(a *applier) (bool, error) {
		rows := messageRows{a: a}
		unread := map[string]int{}
		for _, e := range events {
			if e.Type != backend.EventMessageUpserted {
				if err := a.apply(ctx, e); err != nil {
					return false, fmt.Errorf("apply snapshot %s %s: %w", e.Type, e.EntityID, err)
				}
				continue
			}
			in, conv, err := rows.add(ctx, e.Data)
			if err != nil {
				return false, fmt.Errorf("apply snapshot %s %s: %w", e.Type, e.EntityID, err)
			}
			if in {
				unread[conv]++
			}
		}
		if err := rows.flush(ctx); err != nil {
			return false, fmt.Errorf("apply snapshot messages: %w", err)
		}
		if err := a.dropSentCopies(ctx); err != nil {
			return false, err
		}
		for conv, n := range unread {
			if _, err := a.exec(ctx, `UPDATE conversations SET unread = unread + ? WHERE id = ?`, n, conv); err != nil {
				return false, fmt.Errorf("count unread: %w", err)
			}
		}
		return true, nil
	})
}

// snapshotMessage is the fields of a message the cache's columns and
// unread counts need.
type snapshotMessage struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversationId"`
	ClientID       string    `json:"clientId"`
	Direction      string    `json:"direction"`
	Text           string    `json:"text"`
	CreatedAt      time.Time `json:"createdAt"`
	PlatformAt     time.Time `json:"platformAt"`
}

// messageColumns is how many values one message row of a snapshot binds.
const messageColumns = 6

// rowsPerInsert is how many messages one INSERT of a snapshot carries.
const rowsPerInsert = 100

// messageRows gathers a snapshot's messages into multi-row INSERTs.
type messageRows struct {
	a    *applier
	args []any
}

// add decodes one message of a snapshot and queues its row, inserting the
// queued rows once there are rowsPerInsert; it reports whether the
// message is inbound, and its conversation.
func (r *messageRows) add(ctx context.Context, data []byte) (inbound bool, conv string, err error) {
	var m snapshotMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return false, "", err
	}
	at := (&backend.Message{CreatedAt: m.CreatedAt, PlatformAt: m.PlatformAt}).At()
	r.args = append(r.args, m.ID, m.ConversationID, nullString(m.ClientID), formatTime(at), m.Text, string(data))
	if len(r.args) == rowsPerInsert*messageColumns {
		err = r.flush(ctx)
	}
	return m.Direction == backend.DirectionIn, m.ConversationID, err
}

// flush inserts (or replaces) the queued rows in one statement.
func (r *messageRows) flush(ctx context.Context) error {
	n := len(r.args) / messageColumns
	if n == 0 {
		return nil
	}
	_, err := r.a.exec(ctx, insertMessages(n), r.args...)
	clear(r.args)
	r.args = r.args[:0]
	return err
}

// insertMessages is the INSERT of n message rows.
func insertMessages(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO messages (id, conversation_id, client_id, created_at, text, data) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?, ?, ?, ?, ?, ?)`)
	}
	b.WriteString(` ON CONFLICT (id) DO UPDATE SET conversation_id = excluded.conversation_id, text = excluded.text, data = excluded.data`)
	return b.String()
}

// dropSentCopies removes the outbox's local copies of replies that rows
// added in this batch (after a.indexed) show the engine has stored, with
// their search entries.
func (a *applier) dropSentCopies(ctx context.Context) error {
	// The outbox's copies are the ids from 'local:' up to 'local;' (the
	// character after ':'), a range of the primary key.
	const sent = `FROM messages WHERE id > 'local:' AND id < 'local;' AND client_id IN
		(SELECT client_id FROM messages WHERE rowid > ?1 AND client_id IS NOT NULL AND id NOT LIKE 'local:%')`
	if _, err := a.exec(ctx, `INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', rowid, text `+sent+` AND rowid <= ?1`,
		a.indexed); err != nil {
		return fmt.Errorf("drop sent copies: %w", err)
	}
	if _, err := a.exec(ctx, `DELETE `+sent, a.indexed); err != nil {
		return fmt.Errorf("drop sent copies: %w", err)
	}
	return nil
}

// EndSnapshot marks the conversations that came with perConversation
// messages (the most a snapshot holds: the engine may have older ones) and
// moves the cursor to the snapshot's sequence: the cache is complete as of
// seq.
func (c *Cache) EndSnapshot(ctx context.Context, seq int64, perConversation int) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE conversations SET older = 1 WHERE (SELECT COUNT(*) FROM messages m
		WHERE m.conversation_id = conversations.id AND m.id NOT LIKE 'local:%') >= ?`, perConversation); err != nil {
		return fmt.Errorf("end snapshot: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('last_seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		strconv.FormatInt(seq, 10)); err != nil {
		return err
	}
	return tx.Commit()
}

// HasOlder reports whether the engine may hold older messages of a
// conversation than the cache does (it came in a snapshot with as many
// messages as a snapshot holds).
func (c *Cache) HasOlder(ctx context.Context, conversationID string) (bool, error) {
	var older bool
	err := c.db.QueryRowContext(ctx, `SELECT older FROM conversations WHERE id = ?`, conversationID).Scan(&older)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return older, err
}

// ApplyHistory keeps a conversation's whole history, loaded from the
// engine when it was opened, and clears its mark of older messages.
// Messages the cache holds already stay as they are (the feed keeps them
// current); the older ones are added, and count as read.
func (c *Cache) ApplyHistory(ctx context.Context, conversationID string, msgs []*backend.Message) error {
	return c.batch(ctx, func(a *applier) (bool, error) {
		for _, m := range msgs {
			data, err := json.Marshal(m)
			if err != nil {
				return false, err
			}
			if _, err := a.exec(ctx, `INSERT INTO messages (id, conversation_id, client_id, created_at, text, data) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, m.ID, m.ConversationID, nullString(m.ClientID), formatTime(m.At()), m.Text, string(data)); err != nil {
				return false, fmt.Errorf("keep history: %w", err)
			}
		}
		_, err := a.exec(ctx, `UPDATE conversations SET older = 0 WHERE id = ?`, conversationID)
		return true, err
	})
}
