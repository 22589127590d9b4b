package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"switchboard/backend"
)

var _ backend.CallService = (*DB)(nil)

// callNoteAuthor is the author shown on a call's timeline notes.
const callNoteAuthor = "Phone"

// OpenCall implements backend.CallService.
func (db *DB) OpenCall(ctx context.Context, c *backend.Call, caller backend.Identity, threadKey string, note backend.CallNote) error {
	if c.Channel == "" || c.Instance == "" || caller.ExternalID == "" {
		return backend.Errorf(backend.EInvalid, "A call needs a channel, an instance and a caller.")
	}
	return db.update(ctx, func(tx *Tx) error {
		caller.Channel = c.Channel
		contact, err := resolveIdentity(ctx, tx, caller)
		if err != nil {
			return err
		}
		if threadKey == "" {
			threadKey = caller.ExternalID
		}
		conv, err := openConversation(ctx, tx, contact.ID, &backend.InboundMessage{Channel: c.Channel, Instance: c.Instance, ThreadKey: threadKey})
		if err != nil {
			return err
		}
		if c.ID == "" {
			c.ID = backend.NewID("call")
		}
		c.ConversationID, c.ContactID = conv.ID, contact.ID
		c.StartedAt, c.UpdatedAt = tx.Now(), tx.Now()
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO calls (id, conversation_id, state, data, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			c.ID, c.ConversationID, c.State, string(data), formatTime(c.StartedAt), formatTime(c.UpdatedAt)); err != nil {
			return fmt.Errorf("insert call: %w", err)
		}
		if err := tx.AppendEvent(ctx, backend.EventCallUpserted, c.ID, c); err != nil {
			return err
		}
		return addCallNote(ctx, tx, conv, c, note)
	})
}

// SaveCall implements backend.CallService.
func (db *DB) SaveCall(ctx context.Context, c *backend.Call, note backend.CallNote) error {
	return db.update(ctx, func(tx *Tx) error {
		c.UpdatedAt = tx.Now()
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE calls SET state = ?, data = ?, updated_at = ? WHERE id = ?`,
			c.State, string(data), formatTime(c.UpdatedAt), c.ID)
		if err != nil {
			return fmt.Errorf("save call: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return backend.Errorf(backend.ENotFound, "Call %s does not exist.", c.ID)
		}
		if err := tx.AppendEvent(ctx, backend.EventCallUpserted, c.ID, c); err != nil {
			return err
		}
		if note.Text == "" {
			return nil
		}
		conv, err := findConversation(ctx, tx, c.ConversationID)
		if err != nil {
			return err
		}
		return addCallNote(ctx, tx, conv, c, note)
	})
}

// addCallNote adds a call's timeline line as a note from the phone, and
// moves the conversation to the top of the inbox (open and unassigned
// when the note asks for it).
func addCallNote(ctx context.Context, tx *Tx, conv *backend.Conversation, c *backend.Call, note backend.CallNote) error {
	if note.Text == "" {
		return nil
	}
	m := &backend.Message{
		ID: backend.NewID("msg"), ConversationID: conv.ID, ContactID: conv.ContactID, Direction: backend.DirectionIn,
		AuthorName: callNoteAuthor, Text: note.Text, Private: true, Attachments: note.Attachments,
		ExternalID: c.ID + ":" + backend.NewID("n"), Status: backend.DeliveryReceived, CreatedAt: tx.Now(), UpdatedAt: tx.Now(),
	}
	if err := insertMessage(ctx, tx, m, conv, ""); err != nil {
		return err
	}
	conv.LastMessageAt, conv.LastMessageText, conv.UpdatedAt = m.CreatedAt, preview(m), tx.Now()
	if note.Open {
		conv.Status, conv.AssigneeID = backend.StatusOpen, ""
	}
	if _, err := tx.ExecContext(ctx, `UPDATE conversations SET last_message_at = ?, last_message_text = ?, status = ?, assignee_id = ?, updated_at = ? WHERE id = ?`,
		formatTime(conv.LastMessageAt), conv.LastMessageText, conv.Status, conv.AssigneeID, formatTime(conv.UpdatedAt), conv.ID); err != nil {
		return fmt.Errorf("touch call conversation: %w", err)
	}
	return tx.AppendEvent(ctx, backend.EventConversationUpserted, conv.ID, conv)
}

func scanCall(s interface{ Scan(...any) error }) (*backend.Call, error) {
	var data string
	if err := s.Scan(&data); err != nil {
		return nil, err
	}
	var c backend.Call
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return nil, fmt.Errorf("decode call: %w", err)
	}
	return &c, nil
}

// FindCall implements backend.CallService.
func (db *DB) FindCall(ctx context.Context, id string) (*backend.Call, error) {
	c, err := scanCall(db.r.QueryRowContext(ctx, `SELECT data FROM calls WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "Call %s does not exist.", id)
	}
	return c, err
}

// FindLiveCalls implements backend.CallService.
func (db *DB) FindLiveCalls(ctx context.Context) ([]*backend.Call, error) {
	calls, err := collect(ctx, db.r, `SELECT data FROM calls WHERE state <> ? ORDER BY started_at`,
		func(r *sql.Rows) (*backend.Call, error) { return scanCall(r) }, backend.CallEnded)
	if err != nil {
		return nil, fmt.Errorf("find live calls: %w", err)
	}
	return calls, nil
}

// PutTrunk implements backend.CallService.
func (db *DB) PutTrunk(ctx context.Context, t *backend.Trunk) error {
	if strings.TrimSpace(t.Name) == "" {
		return backend.Errorf(backend.EInvalid, "A trunk needs a name.")
	}
	if !json.Valid(t.Config) {
		return backend.Errorf(backend.EInvalid, "The trunk configuration is not valid JSON.")
	}
	// The configuration holds the trunk's digest password: it is sealed
	// whole, like a channel's.
	sealed, err := db.seal(t.Config, trunkConfigContext(t.Name))
	if err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		t.UpdatedAt = tx.Now()
		var created string
		err := tx.QueryRowContext(ctx, `SELECT created_at FROM voice_trunks WHERE name = ?`, t.Name).Scan(&created)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			t.CreatedAt = tx.Now()
		case err != nil:
			return fmt.Errorf("find trunk: %w", err)
		default:
			t.CreatedAt = parseTime(created)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO voice_trunks (name, config, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET config = excluded.config, enabled = excluded.enabled, updated_at = excluded.updated_at`,
			t.Name, sealed, t.Enabled, formatTime(t.CreatedAt), formatTime(t.UpdatedAt))
		if err != nil {
			return fmt.Errorf("put trunk: %w", err)
		}
		return nil
	})
}

// FindTrunks implements backend.CallService.
func (db *DB) FindTrunks(ctx context.Context) ([]*backend.Trunk, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT name, config, enabled, created_at, updated_at FROM voice_trunks ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("find trunks: %w", err)
	}
	defer rows.Close()
	var out []*backend.Trunk
	for rows.Next() {
		var t backend.Trunk
		var config, created, updated string
		if err := rows.Scan(&t.Name, &config, &t.Enabled, &created, &updated); err != nil {
			return nil, err
		}
		plain, err := db.open(config, trunkConfigContext(t.Name))
		if err != nil {
			return nil, err
		}
		t.Config, t.CreatedAt, t.UpdatedAt = json.RawMessage(plain), parseTime(created), parseTime(updated)
		out = append(out, &t)
	}
	return out, rows.Err()
}

// DeleteTrunk implements backend.CallService.
func (db *DB) DeleteTrunk(ctx context.Context, name string) error {
	return db.update(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM voice_trunks WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("delete trunk: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return backend.Errorf(backend.ENotFound, "Trunk %s does not exist.", name)
		}
		return nil
	})
}
