package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"switchboard/backend"
)

// Queue puts a reply in the outbox and shows it in the conversation at
// once, marked queued. clientID is the idempotency key the engine dedupes
// on, so the reply is delivered once however often it is retried.
func (c *Cache) Queue(ctx context.Context, conversationID, clientID, text string, author backend.User, private bool) (*backend.Message, error) {
	if strings.TrimSpace(text) == "" {
		return nil, backend.Errorf(backend.EInvalid, "A reply needs some text.")
	}
	var contactID string
	if err := c.db.QueryRowContext(ctx, `SELECT contact_id FROM conversations WHERE id = ?`, conversationID).Scan(&contactID); err != nil {
		return nil, backend.Errorf(backend.ENotFound, "Conversation %s is not in this computer's cache.", conversationID)
	}
	now := c.Now().UTC()
	m := &backend.Message{
		ID: localID(clientID), ConversationID: conversationID, ContactID: contactID, Direction: backend.DirectionOut,
		AuthorID: author.ID, AuthorName: author.Name, Text: text, Private: private, ClientID: clientID, Status: backend.DeliveryQueued,
		Attachments: []backend.Attachment{}, CreatedAt: now, UpdatedAt: now,
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (client_id, conversation_id, text, private, created_at) VALUES (?, ?, ?, ?, ?)`,
		clientID, conversationID, text, private, formatTime(now)); err != nil {
		return nil, fmt.Errorf("queue reply: %w", err)
	}
	before, err := maxRowID(ctx, tx)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO messages (id, conversation_id, client_id, created_at, text, data) VALUES (?, ?, ?, ?, ?, ?)`,
		m.ID, conversationID, clientID, formatTime(now), text, string(data)); err != nil {
		return nil, fmt.Errorf("queue reply: %w", err)
	}
	if err := indexNew(ctx, tx, before); err != nil {
		return nil, err
	}
	return m, tx.Commit()
}

// Pending is a reply waiting in the outbox.
type Pending struct {
	ClientID       string
	ConversationID string
	Text           string
	Private        bool
	Attempts       int
}

// Pending lists the outbox, oldest first.
func (c *Cache) Pending(ctx context.Context) ([]Pending, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT client_id, conversation_id, text, private, attempts FROM outbox ORDER BY created_at, client_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Pending
	for rows.Next() {
		var p Pending
		if err := rows.Scan(&p.ClientID, &p.ConversationID, &p.Text, &p.Private, &p.Attempts); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Sent removes a reply the engine has accepted from the outbox.
func (c *Cache) Sent(ctx context.Context, clientID string) error {
	_, err := c.db.ExecContext(ctx, `DELETE FROM outbox WHERE client_id = ?`, clientID)
	return err
}

// Rejected removes a reply the engine refused and marks its local copy
// failed with the engine's error: its sentence, and its code and reason
// (errorCode, errorReason) from which the UI words it in the agent's
// language.
func (c *Cache) Rejected(ctx context.Context, clientID string, refusal error) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE client_id = ?`, clientID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET data = json_set(data, '$.status', 'failed', '$.error', ?, '$.errorCode', ?, '$.errorReason', ?)
		WHERE id = ?`, backend.ErrorMessage(refusal), backend.ErrorCode(refusal), backend.ErrorReason(refusal), localID(clientID)); err != nil {
		return err
	}
	return tx.Commit()
}

// Attempted counts a failed delivery attempt (the engine was unreachable).
func (c *Cache) Attempted(ctx context.Context, clientID, reason string) error {
	_, err := c.db.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE client_id = ?`, reason, clientID)
	return err
}
