package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend"
	"switchboard/backend/internal/storetx"
)

const messageColumns = `id, conversation_id, contact_id, direction, author_id, author_name, text, private, attachments,
	COALESCE(external_id, ''), COALESCE(client_id, ''), status, error, platform_at, created_at, updated_at, cc, problem, automatic`

func scanMessage(s scanner, extra ...any) (*backend.Message, error) {
	var m backend.Message
	if err := s.Scan(append([]any{&m.ID, &m.ConversationID, &m.ContactID, &m.Direction, &m.AuthorID, &m.AuthorName, &m.Text, &m.Private,
		&m.Attachments, &m.ExternalID, &m.ClientID, &m.Status, &m.Error, at{&m.PlatformAt}, at{&m.CreatedAt}, at{&m.UpdatedAt},
		&m.Cc, &m.Problem, &m.Automatic}, extra...)...); err != nil {
		return nil, err
	}
	if m.Attachments == nil {
		m.Attachments = []backend.Attachment{}
	}
	return &m, nil
}

func messageScan(s scanner) (*backend.Message, error) { return scanMessage(s) }

func findMessage(ctx context.Context, q querier, where string, args ...any) (*backend.Message, error) {
	m, err := one(ctx, q, messageScan, backend.Errorf(backend.ENotFound, "The message does not exist."),
		`SELECT `+messageColumns+` FROM messages WHERE `+where, args...)
	if backend.ErrorCode(err) == backend.EInternal {
		return nil, fmt.Errorf("find message: %w", err)
	}
	return m, err
}

// FindMessageByID implements backend.MessageService.
func (db *DB) FindMessageByID(ctx context.Context, id string) (*backend.Message, error) {
	return findMessage(ctx, db.pool, `id = $1`, id)
}

// FindMessages implements backend.MessageService.
func (db *DB) FindMessages(ctx context.Context, conversationID string) ([]*backend.Message, error) {
	return findMessages(ctx, db.pool, conversationID)
}

func findMessages(ctx context.Context, q querier, conversationID string) ([]*backend.Message, error) {
	out, err := collect(ctx, q, messageScan, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = $1
		ORDER BY created_at, pos NULLS LAST, id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("find messages: %w", err)
	}
	if out == nil {
		out = []*backend.Message{}
	}
	return out, nil
}

// steps are the store's statements that storetx's transaction bodies are
// made of, run in tx.
type steps struct{ *Tx }

var _ storetx.MessageTx = steps{}

// Keep implements storetx.MessageTx: timestamptz keeps microseconds.
func (s steps) Keep(t time.Time) time.Time { return micro(t) }

// MessageByExternalID implements storetx.MessageTx.
func (s steps) MessageByExternalID(ctx context.Context, channel, instance, externalID string) (*backend.Message, error) {
	return findMessage(ctx, s.Tx, `channel = $1 AND instance = $2 AND external_id = $3`, channel, instance, externalID)
}

// MessageByClientID implements storetx.MessageTx.
func (s steps) MessageByClientID(ctx context.Context, clientID string) (*backend.Message, error) {
	return findMessage(ctx, s.Tx, `client_id = $1`, clientID)
}

// MessageForUpdate implements storetx.MessageTx: the row stays locked
// until the commit.
func (s steps) MessageForUpdate(ctx context.Context, id string) (*backend.Message, error) {
	return findMessage(ctx, s.Tx, `id = $1 FOR UPDATE`, id)
}

// ReferencedThread implements storetx.MessageTx.
func (s steps) ReferencedThread(ctx context.Context, channel, instance string, refs []string) (string, bool, error) {
	var key string
	err := s.QueryRow(ctx, `SELECT c.thread_key FROM messages AS m JOIN conversations AS c ON c.id = m.conversation_id
		WHERE m.channel = $1 AND m.instance = $2 AND m.external_id = ANY ($3)
		ORDER BY m.pos DESC NULLS FIRST, m.created_at DESC LIMIT 1`, channel, instance, refs).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("find referenced thread: %w", err)
	}
	return key, true, nil
}

// FindConversation implements storetx.MessageTx.
func (s steps) FindConversation(ctx context.Context, id string) (*backend.Conversation, error) {
	return findConversation(ctx, s.Tx, id)
}

// FindOpenConversation implements storetx.MessageTx.
func (s steps) FindOpenConversation(ctx context.Context, channel, instance, threadKey string) (*backend.Conversation, error) {
	c, err := scanConversation(s.QueryRow(ctx, `SELECT `+conversationColumns+` FROM conversations
		WHERE channel = $1 AND instance = $2 AND thread_key = $3 AND status <> $4 ORDER BY created_at DESC LIMIT 1`,
		channel, instance, threadKey, backend.StatusResolved))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("find open conversation: %w", err)
	}
	return c, nil
}

// Lock implements storetx.Tx with transaction advisory locks.
func (s steps) Lock(ctx context.Context, names ...string) (bool, error) {
	return true, lock(ctx, s.Tx, names...)
}

// InsertConversation implements storetx.MessageTx.
func (s steps) InsertConversation(ctx context.Context, c *backend.Conversation) error {
	// Whoever works on another of the customer's conversations sees this
	// one in the customer's history.
	err := storetx.WithContactAccess(ctx, s, []string{c.ContactID}, func() error {
		_, err := s.Exec(ctx, `INSERT INTO conversations (id, contact_id, channel, instance, thread_key, status, subject, assignee_id,
			last_message_at, last_message_text, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			c.ID, c.ContactID, c.Channel, c.Instance, c.ThreadKey, c.Status, c.Subject, c.AssigneeID,
			c.LastMessageAt, c.LastMessageText, c.CreatedAt, c.UpdatedAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("insert conversation: %w", err)
	}
	return nil
}

// InsertMessage implements storetx.MessageTx; the message's position is the
// sequence of its event.
func (s steps) InsertMessage(ctx context.Context, m *backend.Message, conv *backend.Conversation, raw string) error {
	if m.Attachments == nil {
		m.Attachments = []backend.Attachment{}
	}
	_, err := s.Exec(ctx, `INSERT INTO messages (id, conversation_id, contact_id, channel, instance, direction, author_id,
		author_name, text, private, attachments, external_id, client_id, status, error, platform_at, raw, created_at, updated_at,
		cc, problem, automatic)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
		m.ID, m.ConversationID, m.ContactID, conv.Channel, conv.Instance, m.Direction, m.AuthorID, m.AuthorName, m.Text, m.Private,
		m.Attachments, nullString(m.ExternalID), nullString(m.ClientID), m.Status, m.Error, tz(m.PlatformAt), raw,
		m.CreatedAt, m.UpdatedAt, m.Cc, m.Problem, m.Automatic)
	if err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	s.placeMessage(m.ID)
	return s.AppendEvent(ctx, backend.EventMessageUpserted, m.ID, m)
}

// UpdateConversationLast implements storetx.MessageTx.
func (s steps) UpdateConversationLast(ctx context.Context, c *backend.Conversation) error {
	if _, err := s.Exec(ctx, `UPDATE conversations SET last_message_at = $1, last_message_text = $2, status = $3, updated_at = $4 WHERE id = $5`,
		c.LastMessageAt, c.LastMessageText, c.Status, c.UpdatedAt, c.ID); err != nil {
		return fmt.Errorf("touch conversation: %w", err)
	}
	return nil
}

// UpdateDeliveryStatus implements storetx.MessageTx.
func (s steps) UpdateDeliveryStatus(ctx context.Context, m *backend.Message) error {
	if _, err := s.Exec(ctx, `UPDATE messages SET status = $1, error = $2, updated_at = $3 WHERE id = $4`,
		m.Status, m.Error, m.UpdatedAt, m.ID); err != nil {
		return fmt.Errorf("set delivery status: %w", err)
	}
	return nil
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
