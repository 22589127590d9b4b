package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
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
// without moving the cursor. Messages go in with one statement each (a
// snapshot brings each once); the batch's conversations then count their
// unread messages, and the outbox's copies of replies the engine has
// already stored go away.
func (c *Cache) ApplySnapshot(ctx context.Context, events []backend.Event) error {
	return c.batch(ctx, func(a *applier) (bool, error) {
		touched := map[string]bool{}
		for _, e := range events {
			var err error
			if e.Type != backend.EventMessageUpserted {
				err = a.apply(ctx, e)
			} else {
				var conv string
				conv, err = a.snapshotMessage(ctx, e.Data)
				touched[conv] = true
			}
			if err != nil {
				return false, fmt.Errorf("apply snapshot %s %s: %w", e.Type, e.EntityID, err)
			}
		}
		if err := a.dropSentCopies(ctx); err != nil {
			return false, err
		}
		list, _ := json.Marshal(slices.Collect(maps.Keys(touched)))
		if _, err := a.exec(ctx, `UPDATE conversations SET unread = (SELECT COUNT(*) FROM messages m
			WHERE m.conversation_id = conversations.id AND m.data ->> '$.direction' = 'in')
			WHERE id IN (SELECT value FROM json_each(?))`, string(list)); err != nil {
			return false, fmt.Errorf("count unread: %w", err)
		}
		return true, nil
	})
}

// snapshotMessage is the fields of a message the cache's columns hold.
type snapshotMessage struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversationId"`
	ClientID       string    `json:"clientId"`
	Text           string    `json:"text"`
	CreatedAt      time.Time `json:"createdAt"`
	PlatformAt     time.Time `json:"platformAt"`
}

// snapshotMessage inserts (or replaces) one message of a snapshot and
// returns its conversation.
func (a *applier) snapshotMessage(ctx context.Context, data []byte) (string, error) {
	var m snapshotMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return "", err
	}
	at := (&backend.Message{CreatedAt: m.CreatedAt, PlatformAt: m.PlatformAt}).At()
	_, err := a.exec(ctx, `INSERT INTO messages (id, conversation_id, client_id, created_at, text, data) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET conversation_id = excluded.conversation_id, text = excluded.text, data = excluded.data`,
		m.ID, m.ConversationID, nullString(m.ClientID), formatTime(at), m.Text, string(data))
	return m.ConversationID, err
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
