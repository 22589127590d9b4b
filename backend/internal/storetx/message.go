package storetx

import (
	"context"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// MessageTx is the message transactions' steps, each one statement (or a
// few) of the store's SQL inside its write transaction.
type MessageTx interface {
	MediaTx
	ContactTx
	// Keep returns t as the store keeps a time (its precision).
	Keep(t time.Time) time.Time
	// MessageByExternalID returns the message a channel's instance stored
	// with that platform id, or ENotFound.
	MessageByExternalID(ctx context.Context, channel, instance, externalID string) (*backend.Message, error)
	// MessageByClientID returns the message the app sent with that client
	// id, or ENotFound.
	MessageByClientID(ctx context.Context, clientID string) (*backend.Message, error)
	// MessageForUpdate returns the message, kept from other writers until
	// the commit where the store needs a lock for that, or ENotFound.
	MessageForUpdate(ctx context.Context, id string) (*backend.Message, error)
	// ReferencedThread returns the thread key of the newest message of the
	// channel's instance whose external id is one of refs, and false when
	// there is none.
	ReferencedThread(ctx context.Context, channel, instance string, refs []string) (string, bool, error)
	// FindConversation returns the conversation, or ENotFound.
	FindConversation(ctx context.Context, id string) (*backend.Conversation, error)
	// FindOpenConversation returns the thread's newest unresolved
	// conversation, or nil.
	FindOpenConversation(ctx context.Context, channel, instance, threadKey string) (*backend.Conversation, error)
	// InsertConversation stores a new conversation and lets whoever works
	// on the contact's other conversations read it.
	InsertConversation(ctx context.Context, c *backend.Conversation) error
	// InsertMessage stores m (of conv, with the platform's raw payload) and
	// appends its event.
	InsertMessage(ctx context.Context, m *backend.Message, conv *backend.Conversation, raw string) error
	// UpdateConversationLast writes c's newest message time and preview,
	// its status and its update time.
	UpdateConversationLast(ctx context.Context, c *backend.Conversation) error
	// UpdateDeliveryStatus writes m's status, error and update time.
	UpdateDeliveryStatus(ctx context.Context, m *backend.Message) error
	// ThreadMessagesIn returns, in order and kept from other writers until
	// the commit, the outbound messages (not private) of a thread created
	// up to before whose status is one of statuses.
	ThreadMessagesIn(ctx context.Context, channel, instance, threadKey string, before time.Time, statuses []string) ([]*backend.Message, error)
}

// StoreInbound stores a customer's message once (a platform's retry of a
// stored external id returns the stored message and false), in the
// conversation of its thread.
func StoreInbound(ctx context.Context, tx MessageTx, in *backend.InboundMessage) (*backend.Message, bool, error) {
	if err := storekit.CheckInbound(in); err != nil {
		return nil, false, err
	}
	if in.ExternalID != "" {
		old, err := tx.MessageByExternalID(ctx, in.Channel, in.Instance, in.ExternalID)
		if err == nil {
			return old, false, nil
		} else if backend.ErrorCode(err) != backend.ENotFound {
			return nil, false, err
		}
	}
	if err := joinReferencedThread(ctx, tx, in); err != nil {
		return nil, false, err
	}
	contact, err := ResolveIdentity(ctx, tx, backend.Identity{Channel: in.Channel, ExternalID: in.ExternalUserID, DisplayName: in.DisplayName})
	if err != nil {
		return nil, false, err
	}
	conv, err := OpenConversation(ctx, tx, contact.ID, in)
	if err != nil {
		return nil, false, err
	}
	// Files are kept by the engine (at once when they came inside the
	// message, later when they are to be fetched); any other URL that
	// could run script or reach a local file becomes a plain file name
	// (the message itself is kept).
	id := backend.NewID("msg")
	atts, err := storekit.KeepInboundMedia(KeepMedia(ctx, tx, conv, id), conv, id, in.Attachments, tx.Now())
	if err != nil {
		return nil, false, err
	}
	in.Attachments, _ = backend.SafeAttachments(atts)
	m := &backend.Message{
		ID: id, ConversationID: conv.ID, ContactID: contact.ID, Direction: backend.DirectionIn,
		AuthorName: contact.Name, Text: in.Text, Attachments: in.Attachments, ExternalID: in.ExternalID,
		Status: backend.DeliveryReceived, PlatformAt: tx.Keep(in.PlatformAt), CreatedAt: tx.Now(), UpdatedAt: tx.Now(),
		Cc: in.Cc, Problem: in.Problem, Automatic: in.Automatic,
	}
	if err := tx.InsertMessage(ctx, m, conv, string(in.Raw)); err != nil {
		return nil, false, err
	}
	return m, true, TouchConversation(ctx, tx, conv, m)
}

// ImportInbound stores a batch of inbound messages with StoreInbound's
// dedupe and returns how many were new (before the one that failed).
func ImportInbound(ctx context.Context, tx MessageTx, batch []*backend.InboundMessage) (int, error) {
	n := 0
	for _, in := range batch {
		_, created, err := StoreInbound(ctx, tx, in)
		if err != nil {
			return n, err
		}
		if created {
			n++
		}
	}
	return n, nil
}

// joinReferencedThread points in at the thread of the newest stored
// message it answers (Refs), so a reply whose headers name another root (a
// mail client that keeps only In-Reply-To, a colleague's reply-all) still
// joins its conversation.
func joinReferencedThread(ctx context.Context, tx MessageTx, in *backend.InboundMessage) error {
	refs := in.Refs
	if len(refs) == 0 {
		return nil
	}
	if len(refs) > 50 {
		refs = refs[len(refs)-50:]
	}
	key, found, err := tx.ReferencedThread(ctx, in.Channel, in.Instance, refs)
	if found {
		in.ThreadKey = key
	}
	return err
}

// OpenConversation returns the thread's newest unresolved conversation, or
// starts a new one (one transaction at a time per thread).
func OpenConversation(ctx context.Context, tx MessageTx, contactID string, in *backend.InboundMessage) (*backend.Conversation, error) {
	if c, err := tx.FindOpenConversation(ctx, in.Channel, in.Instance, in.ThreadKey); c != nil || err != nil {
		return c, err
	}
	if locked, err := tx.Lock(ctx, "thread:"+in.Channel+"|"+in.Instance+"|"+in.ThreadKey); err != nil {
		return nil, err
	} else if locked {
		if c, err := tx.FindOpenConversation(ctx, in.Channel, in.Instance, in.ThreadKey); c != nil || err != nil {
			return c, err
		}
	}
	first := tx.Now()
	if at := tx.Keep(in.PlatformAt); !at.IsZero() && at.Before(first) {
		first = at // as Message.At will say of its first message
	}
	c := &backend.Conversation{
		ID: backend.NewID("cv"), ContactID: contactID, Channel: in.Channel, Instance: in.Instance, ThreadKey: in.ThreadKey,
		Status: backend.StatusOpen, Subject: in.Subject, LastMessageAt: first, CreatedAt: tx.Now(), UpdatedAt: tx.Now(),
	}
	if err := tx.InsertConversation(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// TouchConversation records the newest message on its conversation: its
// time (Message.At, the platform's when it gave one) and its preview. A
// message that arrives late with an older time does not move them back.
func TouchConversation(ctx context.Context, tx MessageTx, c *backend.Conversation, m *backend.Message) error {
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
	if err := tx.UpdateConversationLast(ctx, c); err != nil {
		return err
	}
	return tx.AppendEvent(ctx, backend.EventConversationUpserted, c.ID, c)
}

// StoreOutbound stores an agent's reply once per client id (a retry
// returns the stored message and false; the same client id in another
// conversation is EConflict). out has passed storekit.CheckOutbound.
func StoreOutbound(ctx context.Context, tx MessageTx, out *backend.OutboundMessage) (*backend.Message, bool, error) {
	if out.ClientID != "" {
		old, err := tx.MessageByClientID(ctx, out.ClientID)
		if err == nil {
			if old.ConversationID != out.ConversationID {
				return nil, false, backend.Errorf(backend.EConflict, "Client id %s was already used in another conversation.", out.ClientID)
			}
			return old, false, nil
		} else if backend.ErrorCode(err) != backend.ENotFound {
			return nil, false, err
		}
	}
	conv, err := tx.FindConversation(ctx, out.ConversationID)
	if err != nil {
		return nil, false, err
	}
	id := backend.NewID("msg")
	atts, err := storekit.AttachReplyFiles(KeepMedia(ctx, tx, conv, id), conv.ID, out.Attachments)
	if err != nil {
		return nil, false, err
	}
	m := storekit.NewOutbound(out, conv, id, tx.Now())
	m.Attachments = atts
	if err := tx.InsertMessage(ctx, m, conv, ""); err != nil {
		return nil, false, err
	}
	return m, true, TouchConversation(ctx, tx, conv, m)
}

// SetDeliveryStatus moves a message's delivery state forward (a status
// at or behind the stored one changes nothing). status has passed
// storekit.CheckDelivery.
func SetDeliveryStatus(ctx context.Context, tx MessageTx, id, status, reason string) (*backend.Message, error) {
	m, err := tx.MessageForUpdate(ctx, id)
	if err != nil {
		return nil, err
	}
	return m, SetStatus(ctx, tx, m, status, reason)
}

// SetStatus writes a forward move of m's delivery state and its event.
func SetStatus(ctx context.Context, tx MessageTx, m *backend.Message, status, reason string) error {
	if backend.DeliveryRank(status) <= backend.DeliveryRank(m.Status) {
		return nil
	}
	m.Status, m.Error, m.UpdatedAt = status, reason, tx.Now()
	if err := tx.UpdateDeliveryStatus(ctx, m); err != nil {
		return err
	}
	return tx.AppendEvent(ctx, backend.EventMessageUpserted, m.ID, m)
}

// SetThreadDeliveryStatus implements backend.ChannelService: the platform
// said that everything up to before in the thread reached status (a read
// receipt), so every reply there that is behind it moves forward.
func (w Writes) SetThreadDeliveryStatus(ctx context.Context, channel, instance, threadKey, status string, before time.Time) ([]*backend.Message, error) {
	if err := storekit.CheckDelivery(status); err != nil {
		return nil, err
	}
	lower := storekit.StatusesBelow(status)
	if len(lower) == 0 {
		return nil, nil
	}
	var changed []*backend.Message
	err := w.Update(ctx, func(tx Steps) (err error) {
		if changed, err = tx.ThreadMessagesIn(ctx, channel, instance, threadKey, before, lower); err != nil {
			return err
		}
		for _, m := range changed {
			if err := SetStatus(ctx, tx, m, status, ""); err != nil {
				return err
			}
		}
		return nil
	})
	return changed, err
}
