package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
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
		n = 0
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
	if err := storekit.CheckInbound(in); err != nil {
		return nil, false, err
	}
	if in.ExternalID != "" {
		old, err := findMessage(ctx, tx, `channel = $1 AND instance = $2 AND external_id = $3`, in.Channel, in.Instance, in.ExternalID)
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
	atts, err := storekit.KeepInboundMedia(mediaKeeper(ctx, tx, conv, id), conv, id, in.Attachments, tx.Now())
	if err != nil {
		return nil, false, err
	}
	in.Attachments, _ = backend.SafeAttachments(atts)
	m := &backend.Message{
		ID: id, ConversationID: conv.ID, ContactID: contact.ID, Direction: backend.DirectionIn,
		AuthorName: contact.Name, Text: in.Text, Attachments: in.Attachments, ExternalID: in.ExternalID,
		Status: backend.DeliveryReceived, PlatformAt: micro(in.PlatformAt), CreatedAt: tx.Now(), UpdatedAt: tx.Now(),
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
	var key string
	err := tx.QueryRow(ctx, `SELECT c.thread_key FROM messages AS m JOIN conversations AS c ON c.id = m.conversation_id
		WHERE m.channel = $1 AND m.instance = $2 AND m.external_id = ANY ($3)
		ORDER BY m.pos DESC NULLS FIRST, m.created_at DESC LIMIT 1`, in.Channel, in.Instance, refs).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("find referenced thread: %w", err)
	}
	in.ThreadKey = key
	return nil
}

// openConversation returns the thread's newest unresolved conversation, or
// starts a new one (one node at a time per thread).
func openConversation(ctx context.Context, tx *Tx, contactID string, in *backend.InboundMessage) (*backend.Conversation, error) {
	find := func() (*backend.Conversation, error) {
		c, err := scanConversation(tx.QueryRow(ctx, `SELECT `+conversationColumns+` FROM conversations
			WHERE channel = $1 AND instance = $2 AND thread_key = $3 AND status <> $4 ORDER BY created_at DESC LIMIT 1`,
			in.Channel, in.Instance, in.ThreadKey, backend.StatusResolved))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		} else if err != nil {
			return nil, fmt.Errorf("find open conversation: %w", err)
		}
		return c, nil
	}
	if c, err := find(); c != nil || err != nil {
		return c, err
	}
	if err := lock(ctx, tx, "thread:"+in.Channel+"|"+in.Instance+"|"+in.ThreadKey); err != nil {
		return nil, err
	}
	if c, err := find(); c != nil || err != nil {
		return c, err
	}
	first := tx.Now()
	if at := micro(in.PlatformAt); !at.IsZero() && at.Before(first) {
		first = at // as Message.At will say of its first message
	}
	c := &backend.Conversation{
		ID: backend.NewID("cv"), ContactID: contactID, Channel: in.Channel, Instance: in.Instance, ThreadKey: in.ThreadKey,
		Status: backend.StatusOpen, Subject: in.Subject, LastMessageAt: first, CreatedAt: tx.Now(), UpdatedAt: tx.Now(),
	}
	// Whoever works on another of the customer's conversations sees this
	// one in the customer's history.
	err := withContactAccess(ctx, tx, []string{contactID}, func() error {
		_, err := tx.Exec(ctx, `INSERT INTO conversations (id, contact_id, channel, instance, thread_key, status, subject, assignee_id,
			last_message_at, last_message_text, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			c.ID, c.ContactID, c.Channel, c.Instance, c.ThreadKey, c.Status, c.Subject, c.AssigneeID,
			c.LastMessageAt, c.LastMessageText, c.CreatedAt, c.UpdatedAt)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("insert conversation: %w", err)
	}
	return c, nil
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func insertMessage(ctx context.Context, tx *Tx, m *backend.Message, conv *backend.Conversation, raw string) error {
	if m.Attachments == nil {
		m.Attachments = []backend.Attachment{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO messages (id, conversation_id, contact_id, channel, instance, direction, author_id,
		author_name, text, private, attachments, external_id, client_id, status, error, platform_at, raw, created_at, updated_at,
		cc, problem, automatic)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
		m.ID, m.ConversationID, m.ContactID, conv.Channel, conv.Instance, m.Direction, m.AuthorID, m.AuthorName, m.Text, m.Private,
		m.Attachments, nullString(m.ExternalID), nullString(m.ClientID), m.Status, m.Error, tz(m.PlatformAt), raw,
		m.CreatedAt, m.UpdatedAt, m.Cc, m.Problem, m.Automatic)
	if err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	tx.placeMessage(m.ID)
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
		c.LastMessageAt, c.LastMessageText = at, storekit.Preview(m)
	}
	c.UpdatedAt = tx.Now()
	if m.Direction == backend.DirectionIn && c.Status == backend.StatusSnoozed {
		c.Status = backend.StatusOpen
	}
	if _, err := tx.Exec(ctx, `UPDATE conversations SET last_message_at = $1, last_message_text = $2, status = $3, updated_at = $4 WHERE id = $5`,
		c.LastMessageAt, c.LastMessageText, c.Status, c.UpdatedAt, c.ID); err != nil {
		return fmt.Errorf("touch conversation: %w", err)
	}
	return tx.AppendEvent(ctx, backend.EventConversationUpserted, c.ID, c)
}

// StoreOutbound implements backend.MessageService.
func (db *DB) StoreOutbound(ctx context.Context, out *backend.OutboundMessage) (*backend.Message, bool, error) {
	if err := storekit.CheckOutbound(out); err != nil {
		return nil, false, err
	}
	var m *backend.Message
	created := false
	err := db.update(ctx, func(tx *Tx) error {
		created = false
		if out.ClientID != "" {
			old, err := findMessage(ctx, tx, `client_id = $1`, out.ClientID)
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
		id := backend.NewID("msg")
		atts, err := storekit.AttachReplyFiles(mediaKeeper(ctx, tx, conv, id), conv.ID, out.Attachments)
		if err != nil {
			return err
		}
		m = storekit.NewOutbound(out, conv, id, tx.Now())
		m.Attachments = atts
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
	if err := storekit.CheckDelivery(status); err != nil {
		return nil, err
	}
	var m *backend.Message
	err := db.update(ctx, func(tx *Tx) (err error) {
		if m, err = findMessage(ctx, tx, `id = $1 FOR UPDATE`, id); err != nil {
			return err
		}
		return setStatus(ctx, tx, m, status, reason)
	})
	return m, err
}

// setStatus writes a forward move of m's delivery state and its event.
func setStatus(ctx context.Context, tx *Tx, m *backend.Message, status, reason string) error {
	if backend.DeliveryRank(status) <= backend.DeliveryRank(m.Status) {
		return nil
	}
	m.Status, m.Error, m.UpdatedAt = status, reason, tx.Now()
	if _, err := tx.Exec(ctx, `UPDATE messages SET status = $1, error = $2, updated_at = $3 WHERE id = $4`,
		m.Status, m.Error, m.UpdatedAt, m.ID); err != nil {
		return fmt.Errorf("set delivery status: %w", err)
	}
	return tx.AppendEvent(ctx, backend.EventMessageUpserted, m.ID, m)
}
