package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storetx"
)

const messageColumns = `id, conversation_id, contact_id, direction, author_id, author_name, text, private, attachments,
	COALESCE(external_id, ''), COALESCE(client_id, ''), status, error, platform_at, created_at, updated_at, cc, problem, automatic`

func scanMessage(s interface{ Scan(...any) error }) (*backend.Message, error) {
	var m backend.Message
	var attachments, platformAt, created, updated, cc string
	if err := s.Scan(&m.ID, &m.ConversationID, &m.ContactID, &m.Direction, &m.AuthorID, &m.AuthorName, &m.Text, &m.Private,
		&attachments, &m.ExternalID, &m.ClientID, &m.Status, &m.Error, &platformAt, &created, &updated, &cc, &m.Problem, &m.Automatic); err != nil {
		return nil, err
	}
	m.PlatformAt, m.CreatedAt, m.UpdatedAt = parseTime(platformAt), parseTime(created), parseTime(updated)
	if err := json.Unmarshal([]byte(attachments), &m.Attachments); err != nil {
		return nil, fmt.Errorf("message %s attachments: %w", m.ID, err)
	}
	if cc != "" {
		if err := json.Unmarshal([]byte(cc), &m.Cc); err != nil {
			return nil, fmt.Errorf("message %s cc: %w", m.ID, err)
		}
	}
	if m.Attachments == nil {
		m.Attachments = []backend.Attachment{}
	}
	return &m, nil
}

func findMessage(ctx context.Context, q queryer, where string, args ...any) (*backend.Message, error) {
	m, err := scanMessage(q.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "The message does not exist.")
	} else if err != nil {
		return nil, fmt.Errorf("find message: %w", err)
	}
	return m, nil
}

// FindMessageByID implements backend.MessageService.
func (db *DB) FindMessageByID(ctx context.Context, id string) (*backend.Message, error) {
	return findMessage(ctx, db.r, `id = ?`, id)
}

// FindMessages implements backend.MessageService.
func (db *DB) FindMessages(ctx context.Context, conversationID string) ([]*backend.Message, error) {
	return findMessages(ctx, db.r, conversationID)
}

func findMessages(ctx context.Context, q queryer, conversationID string) ([]*backend.Message, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = ? ORDER BY created_at, rowid`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("find messages: %w", err)
	}
	defer rows.Close()
	out := []*backend.Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// steps are the store's statements that storetx's transaction bodies are
// made of, run in tx.
type steps struct{ *Tx }

var _ storetx.MessageTx = steps{}

// Keep implements storetx.MessageTx: SQLite keeps times to the nanosecond.
func (s steps) Keep(t time.Time) time.Time { return t }

// MessageByExternalID implements storetx.MessageTx.
func (s steps) MessageByExternalID(ctx context.Context, channel, instance, externalID string) (*backend.Message, error) {
	return findMessage(ctx, s.Tx, `channel = ? AND instance = ? AND external_id = ?`, channel, instance, externalID)
}

// MessageByClientID implements storetx.MessageTx.
func (s steps) MessageByClientID(ctx context.Context, clientID string) (*backend.Message, error) {
	return findMessage(ctx, s.Tx, `client_id = ?`, clientID)
}

// MessageForUpdate implements storetx.MessageTx: the one writer keeps
// others out.
func (s steps) MessageForUpdate(ctx context.Context, id string) (*backend.Message, error) {
	return findMessage(ctx, s.Tx, `id = ?`, id)
}

// ReferencedThread implements storetx.MessageTx.
func (s steps) ReferencedThread(ctx context.Context, channel, instance string, refs []string) (string, bool, error) {
	args := []any{channel, instance}
	for _, r := range refs {
		args = append(args, r)
	}
	var key string
	err := s.QueryRowContext(ctx, `SELECT c.thread_key FROM messages AS m JOIN conversations AS c ON c.id = m.conversation_id
		WHERE m.channel = ? AND m.instance = ? AND m.external_id IN (?`+strings.Repeat(", ?", len(refs)-1)+`)
		ORDER BY m.rowid DESC LIMIT 1`, args...).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
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
	c, err := scanConversation(s.QueryRowContext(ctx, `SELECT `+conversationColumns+` FROM conversations
		WHERE channel = ? AND instance = ? AND thread_key = ? AND status <> ? ORDER BY created_at DESC LIMIT 1`,
		channel, instance, threadKey, backend.StatusResolved))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("find open conversation: %w", err)
	}
	return c, nil
}

// Lock implements storetx.Tx: the one writer already keeps other
// transactions out.
func (s steps) Lock(context.Context, ...string) (bool, error) { return false, nil }

// InsertConversation implements storetx.MessageTx.
func (s steps) InsertConversation(ctx context.Context, c *backend.Conversation) error {
	// Whoever works on another of the customer's conversations sees this
	// one in the customer's history.
	err := storetx.WithContactAccess(ctx, s, []string{c.ContactID}, func() error {
		_, err := s.ExecContext(ctx, `INSERT INTO conversations (`+conversationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]')`,
			c.ID, c.ContactID, c.Channel, c.Instance, c.ThreadKey, c.Status, c.Subject, c.AssigneeID,
			formatTime(c.LastMessageAt), c.LastMessageText, formatTime(c.CreatedAt), formatTime(c.UpdatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("insert conversation: %w", err)
	}
	return nil
}

// InsertMessage implements storetx.MessageTx.
func (s steps) InsertMessage(ctx context.Context, m *backend.Message, conv *backend.Conversation, raw string) error {
	if m.Attachments == nil {
		m.Attachments = []backend.Attachment{}
	}
	attachments, err := json.Marshal(m.Attachments)
	if err != nil {
		return err
	}
	cc := ""
	if m.Cc != nil {
		b, _ := json.Marshal(m.Cc)
		cc = string(b)
	}
	_, err = s.ExecContext(ctx, `INSERT INTO messages (id, conversation_id, contact_id, channel, instance, direction, author_id,
		author_name, text, private, attachments, external_id, client_id, status, error, platform_at, raw, created_at, updated_at,
		cc, problem, automatic)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.ConversationID, m.ContactID, conv.Channel, conv.Instance, m.Direction, m.AuthorID, m.AuthorName, m.Text, m.Private,
		string(attachments), nullString(m.ExternalID), nullString(m.ClientID), m.Status, m.Error, formatTime(m.PlatformAt), raw,
		formatTime(m.CreatedAt), formatTime(m.UpdatedAt), cc, m.Problem, m.Automatic)
	if err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	return s.AppendEvent(ctx, backend.EventMessageUpserted, m.ID, m)
}

// UpdateConversationLast implements storetx.MessageTx.
func (s steps) UpdateConversationLast(ctx context.Context, c *backend.Conversation) error {
	if _, err := s.ExecContext(ctx, `UPDATE conversations SET last_message_at = ?, last_message_text = ?, status = ?, updated_at = ? WHERE id = ?`,
		formatTime(c.LastMessageAt), c.LastMessageText, c.Status, formatTime(c.UpdatedAt), c.ID); err != nil {
		return fmt.Errorf("touch conversation: %w", err)
	}
	return nil
}

// UpdateDeliveryStatus implements storetx.MessageTx.
func (s steps) UpdateDeliveryStatus(ctx context.Context, m *backend.Message) error {
	if _, err := s.ExecContext(ctx, `UPDATE messages SET status = ?, error = ?, updated_at = ? WHERE id = ?`,
		m.Status, m.Error, formatTime(m.UpdatedAt), m.ID); err != nil {
		return fmt.Errorf("set delivery status: %w", err)
	}
	return nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
