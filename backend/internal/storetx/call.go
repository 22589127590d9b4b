package storetx

import (
	"context"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// CallTx is the call transactions' steps: the message steps (a call's
// timeline lines are messages) and the call rows.
type CallTx interface {
	MessageTx
	// InsertCall stores a new call.
	InsertCall(ctx context.Context, c *backend.Call) error
	// UpdateCall writes c's state and data; it reports false when there is
	// no such call.
	UpdateCall(ctx context.Context, c *backend.Call) (bool, error)
	// UpdateCallConversation writes conv's newest message time and
	// preview, status, assignee and update time.
	UpdateCallConversation(ctx context.Context, conv *backend.Conversation) error
}

// OpenCall stores a new call in the conversation of the caller's thread
// (threadKey, or the caller's id), with its first timeline line. c and
// caller have passed storekit.CheckCall.
func OpenCall(ctx context.Context, tx CallTx, c *backend.Call, caller backend.Identity, threadKey string, note backend.CallNote) error {
	caller.Channel = c.Channel
	contact, err := ResolveIdentity(ctx, tx, caller)
	if err != nil {
		return err
	}
	if threadKey == "" {
		threadKey = caller.ExternalID
	}
	conv, err := OpenConversation(ctx, tx, contact.ID, &backend.InboundMessage{Channel: c.Channel, Instance: c.Instance, ThreadKey: threadKey})
	if err != nil {
		return err
	}
	if c.ID == "" {
		c.ID = backend.NewID("call")
	}
	c.ConversationID, c.ContactID = conv.ID, contact.ID
	c.StartedAt, c.UpdatedAt = tx.Now(), tx.Now()
	if err := tx.InsertCall(ctx, c); err != nil {
		return err
	}
	if err := tx.AppendEvent(ctx, backend.EventCallUpserted, c.ID, c); err != nil {
		return err
	}
	return addCallNote(ctx, tx, conv, c, note)
}

// SaveCall writes a call's new state (ENotFound for an unknown call) and
// its timeline line, if any.
func SaveCall(ctx context.Context, tx CallTx, c *backend.Call, note backend.CallNote) error {
	c.UpdatedAt = tx.Now()
	if found, err := tx.UpdateCall(ctx, c); err != nil {
		return err
	} else if !found {
		return backend.Errorf(backend.ENotFound, "Call %s does not exist.", c.ID)
	}
	if err := tx.AppendEvent(ctx, backend.EventCallUpserted, c.ID, c); err != nil {
		return err
	}
	if note.Text == "" {
		return nil
	}
	conv, err := tx.FindConversation(ctx, c.ConversationID)
	if err != nil {
		return err
	}
	return addCallNote(ctx, tx, conv, c, note)
}

// addCallNote adds a call's timeline line as a note from the phone, and
// moves the conversation to the top of the inbox (open and unassigned
// when the note asks for it).
func addCallNote(ctx context.Context, tx CallTx, conv *backend.Conversation, c *backend.Call, note backend.CallNote) error {
	if note.Text == "" {
		return nil
	}
	m := storekit.CallNoteMessage(conv, c, note, tx.Now())
	if err := tx.InsertMessage(ctx, m, conv, ""); err != nil {
		return err
	}
	conv.LastMessageAt, conv.LastMessageText, conv.UpdatedAt = m.CreatedAt, storekit.Preview(m), tx.Now()
	if note.Open {
		conv.Status, conv.AssigneeID = backend.StatusOpen, ""
	}
	if err := tx.UpdateCallConversation(ctx, conv); err != nil {
		return err
	}
	return tx.AppendEvent(ctx, backend.EventConversationUpserted, conv.ID, conv)
}
