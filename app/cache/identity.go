package cache

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"switchboard/backend"
)

// Followed returns the identity of the engine feed the cache was filled
// from; zero before the first sync.
func (c *Cache) Followed(ctx context.Context) (backend.FeedIdentity, error) {
	var id backend.FeedIdentity
	err := c.db.QueryRowContext(ctx, `SELECT COALESCE((SELECT value FROM meta WHERE key = 'engine_id'), ''),
		COALESCE((SELECT value FROM meta WHERE key = 'feed_epoch'), '')`).Scan(&id.EngineID, &id.Epoch)
	return id, err
}

// Follow checks that the cache still follows the feed named id, whose
// newest sequence is head. When the engine or the epoch changed, or head is
// behind the cache's cursor (the store was replaced or restored from an
// older backup), the cache forgets every synced entity, moves the replies
// still in the outbox aside as held (they belong to the old engine's
// conversations and are never sent) and starts over at sequence 0. It
// reports whether it reset and how many replies it held.
func (c *Cache) Follow(ctx context.Context, id backend.FeedIdentity, head int64) (reset bool, held int, err error) {
	if id.EngineID == "" {
		return false, 0, nil // an engine that does not name itself: nothing to compare
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return false, 0, err
	}
	defer tx.Rollback()
	var old backend.FeedIdentity
	var cursor int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT value FROM meta WHERE key = 'engine_id'), ''),
		COALESCE((SELECT value FROM meta WHERE key = 'feed_epoch'), ''),
		COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'last_seq'), 0)`).Scan(&old.EngineID, &old.Epoch, &cursor); err != nil {
		return false, 0, err
	}
	switch {
	case old == id && head >= cursor:
		return false, 0, nil
	case old.EngineID == "" && head >= cursor:
		// A new cache, or one filled before engines named themselves:
		// remember whom it follows.
	default:
		if held, err = resetTx(ctx, tx, c.Now().UTC()); err != nil {
			return false, 0, fmt.Errorf("reset cache: %w", err)
		}
		reset = true
	}
	for k, v := range map[string]string{"engine_id": id.EngineID, "feed_epoch": id.Epoch} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v); err != nil {
			return false, 0, err
		}
	}
	return reset, held, tx.Commit()
}

// resetTx holds the outbox and empties everything synced from the feed.
func resetTx(ctx context.Context, tx *sql.Tx, now time.Time) (int, error) {
	res, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO held (client_id, conversation_id, contact_name, channel, text, private, created_at, held_at)
		SELECT o.client_id, o.conversation_id, COALESCE(ct.name, ''), COALESCE(cv.channel, ''), o.text, o.private, o.created_at, ?
		FROM outbox o LEFT JOIN conversations cv ON cv.id = o.conversation_id LEFT JOIN contacts ct ON ct.id = cv.contact_id`,
		formatTime(now))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	for _, q := range []string{
		`DELETE FROM outbox`, `DELETE FROM messages_fts`, `DELETE FROM messages`, `DELETE FROM conversations`,
		`DELETE FROM contacts`, `DELETE FROM entities`, `DELETE FROM media`, `DELETE FROM meta WHERE key = 'last_seq'`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return 0, err
		}
	}
	return int(n), nil
}

// HeldReply is a reply written for an engine the cache no longer follows.
// It was not sent; the agent may copy it and send it again.
type HeldReply struct {
	ClientID       string    `json:"clientId"`
	ConversationID string    `json:"conversationId"`
	ContactName    string    `json:"contactName"`
	Channel        string    `json:"channel"`
	Text           string    `json:"text"`
	Private        bool      `json:"private"`
	CreatedAt      time.Time `json:"createdAt"`
	HeldAt         time.Time `json:"heldAt"`
}

// Held lists the held replies, oldest first.
func (c *Cache) Held(ctx context.Context) ([]HeldReply, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT client_id, conversation_id, contact_name, channel, text, private, created_at, held_at
		FROM held ORDER BY created_at, client_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []HeldReply{}
	for rows.Next() {
		var h HeldReply
		var created, heldAt string
		if err := rows.Scan(&h.ClientID, &h.ConversationID, &h.ContactName, &h.Channel, &h.Text, &h.Private, &created, &heldAt); err != nil {
			return nil, err
		}
		h.CreatedAt, h.HeldAt = parseTime(created), parseTime(heldAt)
		out = append(out, h)
	}
	return out, rows.Err()
}

// DiscardHeld forgets a held reply. Returns ENotFound.
func (c *Cache) DiscardHeld(ctx context.Context, clientID string) error {
	res, err := c.db.ExecContext(ctx, `DELETE FROM held WHERE client_id = ?`, clientID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return backend.Errorf(backend.ENotFound, "That unsent reply is gone already.")
	}
	return nil
}

// parseTime reads a time written by formatTime (zero when malformed).
func parseTime(s string) time.Time {
	t, _ := time.Parse(timeFormat, s)
	return t
}
