package postgres

import (
	"context"
	"fmt"
	"strings"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

const conversationColumns = `id, contact_id, channel, instance, thread_key, status, subject, assignee_id,
	last_message_at, last_message_text, created_at, updated_at, labels`

func scanConversation(s scanner) (*backend.Conversation, error) {
	var c backend.Conversation
	if err := s.Scan(&c.ID, &c.ContactID, &c.Channel, &c.Instance, &c.ThreadKey, &c.Status, &c.Subject, &c.AssigneeID,
		at{&c.LastMessageAt}, &c.LastMessageText, at{&c.CreatedAt}, at{&c.UpdatedAt}, &c.Labels); err != nil {
		return nil, err
	}
	return &c, nil
}

func findConversation(ctx context.Context, q querier, id string) (*backend.Conversation, error) {
	c, err := one(ctx, q, scanConversation, backend.Errorf(backend.ENotFound, "Conversation %s does not exist.", id),
		`SELECT `+conversationColumns+` FROM conversations WHERE id = $1`, id)
	if backend.ErrorCode(err) == backend.EInternal {
		return nil, fmt.Errorf("find conversation: %w", err)
	}
	return c, err
}

// FindConversationByID implements backend.ConversationService.
func (db *DB) FindConversationByID(ctx context.Context, id string) (*backend.Conversation, error) {
	return findConversation(ctx, db.pool, id)
}

// FindThreadConversation returns the newest unresolved conversation of a
// platform thread (a web chat visitor, a chat id …). Returns ENotFound.
func (db *DB) FindThreadConversation(ctx context.Context, channel, instance, threadKey string) (*backend.Conversation, error) {
	c, err := one(ctx, db.pool, scanConversation, backend.Errorf(backend.ENotFound, "No open conversation in that thread."),
		`SELECT `+conversationColumns+` FROM conversations WHERE channel = $1 AND instance = $2 AND thread_key = $3 AND status <> $4
		ORDER BY created_at DESC LIMIT 1`, channel, instance, threadKey, backend.StatusResolved)
	if backend.ErrorCode(err) == backend.EInternal {
		return nil, fmt.Errorf("find thread conversation: %w", err)
	}
	return c, err
}

// FindConversations implements backend.ConversationService.
func (db *DB) FindConversations(ctx context.Context, f backend.ConversationFilter) ([]*backend.Conversation, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.ContactID != "" {
		add("contact_id = $%d", f.ContactID)
	}
	if f.Status != "" {
		add("status = $%d", f.Status)
	}
	if f.Channel != "" {
		add("channel = $%d", f.Channel)
	}
	if f.VisibleTo != "" {
		add("id IN (SELECT conversation_id FROM conversation_readers WHERE user_id = $%d)", f.VisibleTo)
	}
	q := `SELECT ` + conversationColumns + ` FROM conversations`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY last_message_at DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	out, err := collect(ctx, db.pool, scanConversation, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find conversations: %w", err)
	}
	return out, nil
}

// SetConversationStatus implements backend.ConversationService.
func (db *DB) SetConversationStatus(ctx context.Context, id, status string) (*backend.Conversation, error) {
	if err := storekit.CheckStatus(status); err != nil {
		return nil, err
	}
	return db.updateConversation(ctx, id, `status = $2`, status)
}

// updateConversation sets columns of one conversation (set uses $2 on) and
// appends its event. Returns ENotFound.
func (db *DB) updateConversation(ctx context.Context, id, set string, args ...any) (*backend.Conversation, error) {
	var c *backend.Conversation
	err := db.update(ctx, func(tx *Tx) (err error) {
		c, err = one(ctx, tx, scanConversation, backend.Errorf(backend.ENotFound, "Conversation %s does not exist.", id),
			fmt.Sprintf(`UPDATE conversations SET %s, updated_at = $%d WHERE id = $1 RETURNING `+conversationColumns, set, len(args)+2),
			append(append([]any{id}, args...), tx.Now())...)
		if err != nil {
			return err
		}
		return tx.AppendEvent(ctx, backend.EventConversationUpserted, c.ID, c)
	})
	return c, err
}

// appendConversationEvents appends an upsert event for every conversation
// matching the where clause.
func appendConversationEvents(ctx context.Context, tx *Tx, where string, args ...any) error {
	convs, err := collect(ctx, tx, scanConversation, `SELECT `+conversationColumns+` FROM conversations WHERE `+where, args...)
	if err != nil {
		return err
	}
	for _, c := range convs {
		if err := tx.AppendEvent(ctx, backend.EventConversationUpserted, c.ID, c); err != nil {
			return err
		}
	}
	return nil
}
