package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"switchboard/backend"
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

// StoreInbound implements backend.MessageService.
func (db *DB) StoreInbound(ctx context.Context, in *backend.InboundMessage) (*backend.Message, bool, error) {
	var m *backend.Message
	created := false
	err := db.update(ctx, func(tx *Tx) (err error) {
		m, created, err = storeInbound(ctx, tx, in)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return m, created, nil
}

// ImportInbound stores a batch of inbound messages in one transaction (a
// history import, or a poller's batch), with StoreInbound's dedupe. It
// returns how many were new.
func (db *DB) ImportInbound(ctx context.Context, batch []*backend.InboundMessage) (int, error) {
	n := 0
	err := db.update(ctx, func(tx *Tx) error {
		for _, in := range batch {
			_, created, err := storeInbound(ctx, tx, in)
			if err != nil {
				return err
			}
			if created {
				n++
			}
		}
		return nil
	})
	return n, err
}

func storeInbound(ctx context.Context, tx *Tx, in *backend.InboundMessage) (*backend.Message, bool, error) {
	if in.Channel == "" || in.Instance == "" || in.ExternalUserID == "" {
		return nil, false, backend.Errorf(backend.EInvalid, "An inbound message needs a channel, an instance and a sender.")
	}
	if in.ThreadKey == "" {
		in.ThreadKey = in.ExternalUserID
	}
	if in.ExternalID != "" {
		old, err := findMessage(ctx, tx, `channel = ? AND instance = ? AND external_id = ?`, in.Channel, in.Instance, in.ExternalID)
		if err == nil {
			return old, false, nil
		} else if backend.ErrorCode(err) != backend.ENotFound {
			return nil, false, err
		}
	}
	if err := joinReferencedThread(ctx, tx, in); err != nil {
		return nil, false, err
	}
	contact, err := resolveIdentity(ctx, tx, backend.Identity{Channel: in.Channel, ExternalID: in.ExternalUserID, DisplayName: in.DisplayName})
	if err != nil {
		return nil, false, err
	}
	conv, err := openConversation(ctx, tx, contact.ID, in)
	if err != nil {
		return nil, false, err
	}
	// Files are kept by the engine (at once when they came inside the
	// message, later when they are to be fetched); any other URL that
	// could run script or reach a local file becomes a plain file name
	// (the message itself is kept).
	id := backend.NewID("msg")
	atts, err := keepInboundMedia(ctx, tx, conv, id, in.Attachments)
	if err != nil {
		return nil, false, err
	}
	in.Attachments, _ = backend.SafeAttachments(atts)
	m := &backend.Message{
		ID: id, ConversationID: conv.ID, ContactID: contact.ID, Direction: backend.DirectionIn,
		AuthorName: contact.Name, Text: in.Text, Attachments: in.Attachments, ExternalID: in.ExternalID,
		Status: backend.DeliveryReceived, PlatformAt: in.PlatformAt, CreatedAt: tx.Now(), UpdatedAt: tx.Now(),
		Cc: in.Cc, Problem: in.Problem, Automatic: in.Automatic,
	}
	if err := insertMessage(ctx, tx, m, conv, string(in.Raw)); err != nil {
		return nil, false, err
	}
	return m, true, touchConversation(ctx, tx, conv, m)
}

// joinReferencedThread points in at the thread of the newest stored
// message it answers (Refs), so a reply whose headers name another root (a
// mail client that keeps only In-Reply-To, a colleague's reply-all) still
// joins its conversation.
func joinReferencedThread(ctx context.Context, tx *Tx, in *backend.InboundMessage) error {
	refs := in.Refs
	if len(refs) == 0 {
		return nil
	}
	if len(refs) > 50 {
		refs = refs[len(refs)-50:]
	}
	args := []any{in.Channel, in.Instance}
	for _, r := range refs {
		args = append(args, r)
	}
	var key string
	err := tx.QueryRowContext(ctx, `SELECT c.thread_key FROM messages AS m JOIN conversations AS c ON c.id = m.conversation_id
		WHERE m.channel = ? AND m.instance = ? AND m.external_id IN (?`+strings.Repeat(", ?", len(refs)-1)+`)
		ORDER BY m.rowid DESC LIMIT 1`, args...).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("find referenced thread: %w", err)
	}
	in.ThreadKey = key
	return nil
}

// openConversation returns the thread's newest unresolved conversation, or
// starts a new one.
func openConversation(ctx context.Context, tx *Tx, contactID string, in *backend.InboundMessage) (*backend.Conversation, error) {
	c, err := scanConversation(tx.QueryRowContext(ctx, `SELECT `+conversationColumns+` FROM conversations
		WHERE channel = ? AND instance = ? AND thread_key = ? AND status <> ? ORDER BY created_at DESC LIMIT 1`,
		in.Channel, in.Instance, in.ThreadKey, backend.StatusResolved))
	if err == nil {
		return c, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find open conversation: %w", err)
	}
	first := tx.Now()
	if !in.PlatformAt.IsZero() && in.PlatformAt.Before(first) {
		first = in.PlatformAt // as Message.At will say of its first message
	}
	c = &backend.Conversation{
		ID: backend.NewID("cv"), ContactID: contactID, Channel: in.Channel, Instance: in.Instance, ThreadKey: in.ThreadKey,
		Status: backend.StatusOpen, Subject: in.Subject, LastMessageAt: first, CreatedAt: tx.Now(), UpdatedAt: tx.Now(),
	}
	// Whoever works on another of the customer's conversations sees this
	// one in the customer's history.
	err = withContactAccess(ctx, tx, []string{contactID}, func() error {
		_, err := tx.ExecContext(ctx, `INSERT INTO conversations (`+conversationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]')`,
			c.ID, c.ContactID, c.Channel, c.Instance, c.ThreadKey, c.Status, c.Subject, c.AssigneeID,
			formatTime(c.LastMessageAt), c.LastMessageText, formatTime(c.CreatedAt), formatTime(c.UpdatedAt))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("insert conversation: %w", err)
	}
	return c, nil
}

func insertMessage(ctx context.Context, tx *Tx, m *backend.Message, conv *backend.Conversation, raw string) error {
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
	_, err = tx.ExecContext(ctx, `INSERT INTO messages (id, conversation_id, contact_id, channel, instance, direction, author_id,
		author_name, text, private, attachments, external_id, client_id, status, error, platform_at, raw, created_at, updated_at,
		cc, problem, automatic)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.ConversationID, m.ContactID, conv.Channel, conv.Instance, m.Direction, m.AuthorID, m.AuthorName, m.Text, m.Private,
		string(attachments), nullString(m.ExternalID), nullString(m.ClientID), m.Status, m.Error, formatTime(m.PlatformAt), raw,
		formatTime(m.CreatedAt), formatTime(m.UpdatedAt), cc, m.Problem, m.Automatic)
	if err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	return tx.AppendEvent(ctx, backend.EventMessageUpserted, m.ID, m)
}

// touchConversation records the newest message on its conversation: its
// time (Message.At, the platform's when it gave one) and its preview. A
// message that arrives late with an older time does not move them back.
func touchConversation(ctx context.Context, tx *Tx, c *backend.Conversation, m *backend.Message) error {
	if m.Private {
		return nil
	}
	if at := m.At(); !at.Before(c.LastMessageAt) {
		c.LastMessageAt, c.LastMessageText = at, preview(m)
	}
	c.UpdatedAt = tx.Now()
	if m.Direction == backend.DirectionIn && c.Status == backend.StatusSnoozed {
		c.Status = backend.StatusOpen
	}
	if _, err := tx.ExecContext(ctx, `UPDATE conversations SET last_message_at = ?, last_message_text = ?, status = ?, updated_at = ? WHERE id = ?`,
		formatTime(c.LastMessageAt), c.LastMessageText, c.Status, formatTime(c.UpdatedAt), c.ID); err != nil {
		return fmt.Errorf("touch conversation: %w", err)
	}
	return tx.AppendEvent(ctx, backend.EventConversationUpserted, c.ID, c)
}

func preview(m *backend.Message) string {
	s := strings.Join(strings.Fields(m.Text), " ")
	if s == "" && len(m.Attachments) > 0 {
		s = "[" + m.Attachments[0].Type + "]"
	}
	if utf8.RuneCountInString(s) > 140 {
		s = string([]rune(s)[:140]) + "…"
	}
	return s
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// StoreOutbound implements backend.MessageService.
func (db *DB) StoreOutbound(ctx context.Context, out *backend.OutboundMessage) (*backend.Message, bool, error) {
	if strings.TrimSpace(out.Text) == "" && len(out.Attachments) == 0 {
		return nil, false, backend.Errorf(backend.EInvalid, "A reply needs text or an attachment.")
	}
	for i, a := range out.Attachments {
		if err := backend.CheckAttachmentURL(a.URL); err != nil {
			return nil, false, backend.Errorf(backend.EInvalid, "Attachment %d: %s", i+1, backend.ErrorMessage(err))
		}
	}
	var m *backend.Message
	created := false
	err := db.update(ctx, func(tx *Tx) error {
		if out.ClientID != "" {
			old, err := findMessage(ctx, tx, `client_id = ?`, out.ClientID)
			if err == nil {
				if old.ConversationID != out.ConversationID {
					return backend.Errorf(backend.EConflict, "Client id %s was already used in another conversation.", out.ClientID)
				}
				m = old
				return nil
			} else if backend.ErrorCode(err) != backend.ENotFound {
				return err
			}
		}
		conv, err := findConversation(ctx, tx, out.ConversationID)
		if err != nil {
			return err
		}
		status := backend.DeliveryQueued
		if out.Private {
			status = backend.DeliverySent
		}
		id := backend.NewID("msg")
		atts, err := attachOutboundMedia(ctx, tx, conv, id, out.Attachments)
		if err != nil {
			return err
		}
		m = &backend.Message{
			ID: id, ConversationID: conv.ID, ContactID: conv.ContactID, Direction: backend.DirectionOut,
			AuthorID: out.AuthorID, AuthorName: out.AuthorName, Text: out.Text, Private: out.Private, Attachments: atts,
			ClientID: out.ClientID, Status: status, CreatedAt: tx.Now(), UpdatedAt: tx.Now(), Cc: out.Cc,
		}
		if err := insertMessage(ctx, tx, m, conv, ""); err != nil {
			return err
		}
		created = true
		return touchConversation(ctx, tx, conv, m)
	})
	if err != nil {
		return nil, false, err
	}
	return m, created, nil
}

// SetDeliveryStatus implements backend.MessageService.
func (db *DB) SetDeliveryStatus(ctx context.Context, id, status, reason string) (*backend.Message, error) {
	if backend.DeliveryRank(status) == 0 {
		return nil, backend.Errorf(backend.EInvalid, "%q is not a delivery status.", status)
	}
	var m *backend.Message
	err := db.update(ctx, func(tx *Tx) (err error) {
		if m, err = findMessage(ctx, tx, `id = ?`, id); err != nil {
			return err
		}
		if backend.DeliveryRank(status) <= backend.DeliveryRank(m.Status) {
			return nil
		}
		m.Status, m.Error, m.UpdatedAt = status, reason, tx.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET status = ?, error = ?, updated_at = ? WHERE id = ?`,
			m.Status, m.Error, formatTime(m.UpdatedAt), m.ID); err != nil {
			return fmt.Errorf("set delivery status: %w", err)
		}
		return tx.AppendEvent(ctx, backend.EventMessageUpserted, m.ID, m)
	})
	return m, err
}
