package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

const conversationColumns = `id, contact_id, channel, instance, thread_key, status, subject, assignee_id,
	last_message_at, last_message_text, created_at, updated_at, labels`

func scanConversation(s interface{ Scan(...any) error }) (*backend.Conversation, error) {
	var c backend.Conversation
	var last, created, updated, labels string
	if err := s.Scan(&c.ID, &c.ContactID, &c.Channel, &c.Instance, &c.ThreadKey, &c.Status, &c.Subject, &c.AssigneeID,
		&last, &c.LastMessageText, &created, &updated, &labels); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(labels), &c.Labels); err != nil {
		return nil, fmt.Errorf("conversation %s labels: %w", c.ID, err)
	}
	c.LastMessageAt, c.CreatedAt, c.UpdatedAt = parseTime(last), parseTime(created), parseTime(updated)
	return &c, nil
}

func findConversation(ctx context.Context, q queryer, id string) (*backend.Conversation, error) {
	c, err := scanConversation(q.QueryRowContext(ctx, `SELECT `+conversationColumns+` FROM conversations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "Conversation %s does not exist.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find conversation: %w", err)
	}
	return c, nil
}

// FindConversationByID implements backend.ConversationService.
func (db *DB) FindConversationByID(ctx context.Context, id string) (*backend.Conversation, error) {
	return findConversation(ctx, db.r, id)
}

// FindThreadConversation returns the newest unresolved conversation of a
// platform thread (a web chat visitor, a chat id …). Returns ENotFound.
func (db *DB) FindThreadConversation(ctx context.Context, channel, instance, threadKey string) (*backend.Conversation, error) {
	c, err := scanConversation(db.r.QueryRowContext(ctx, `SELECT `+conversationColumns+` FROM conversations
		WHERE channel = ? AND instance = ? AND thread_key = ? AND status <> ? ORDER BY created_at DESC LIMIT 1`,
		channel, instance, threadKey, backend.StatusResolved))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "No open conversation in that thread.")
	} else if err != nil {
		return nil, fmt.Errorf("find thread conversation: %w", err)
	}
	return c, nil
}

// FindConversations implements backend.ConversationService.
func (db *DB) FindConversations(ctx context.Context, f backend.ConversationFilter) ([]*backend.Conversation, error) {
	var where []string
	var args []any
	if f.ContactID != "" {
		where, args = append(where, "contact_id = ?"), append(args, f.ContactID)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Channel != "" {
		where, args = append(where, "channel = ?"), append(args, f.Channel)
	}
	if f.VisibleTo != "" {
		where, args = append(where, "id IN (SELECT conversation_id FROM conversation_readers WHERE user_id = ?)"), append(args, f.VisibleTo)
	}
	q := `SELECT ` + conversationColumns + ` FROM conversations`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY last_message_at DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find conversations: %w", err)
	}
	defer rows.Close()
	var out []*backend.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetConversationStatus implements backend.ConversationService.
func (db *DB) SetConversationStatus(ctx context.Context, id, status string) (*backend.Conversation, error) {
	if err := storekit.CheckStatus(status); err != nil {
		return nil, err
	}
	var c *backend.Conversation
	err := db.update(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE conversations SET status = ?, updated_at = ? WHERE id = ?`, status, formatTime(tx.Now()), id)
		if err != nil {
			return fmt.Errorf("set status: %w", err)
		} else if n, _ := res.RowsAffected(); n == 0 {
			return backend.Errorf(backend.ENotFound, "Conversation %s does not exist.", id)
		}
		if c, err = findConversation(ctx, tx, id); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, backend.EventConversationUpserted, c.ID, c)
	})
	return c, err
}

// appendConversationEvents appends an upsert event for every conversation
// matching the where clause.
func appendConversationEvents(ctx context.Context, tx *Tx, where string, args ...any) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+conversationColumns+` FROM conversations WHERE `+where, args...)
	if err != nil {
		return err
	}
	var convs []*backend.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			rows.Close()
			return err
		}
		convs = append(convs, c)
	}
	rows.Close()
	for _, c := range convs {
		if err := tx.AppendEvent(ctx, backend.EventConversationUpserted, c.ID, c); err != nil {
			return err
		}
	}
	return rows.Err()
}
