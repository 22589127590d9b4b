package storetx

import (
	"context"
	"strings"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// Steps is every step a store implements for the transaction bodies here.
type Steps interface {
	CallTx
	OutboxTx
	WebchatTx
	UserTx
	InviteTx
	FlowTx
}

// Writes implements, once for both stores, the service methods that are a
// check, one write transaction and a body here. A store embeds it, so its
// DB has these methods, and gives it its transactions.
type Writes struct {
	// Update runs fn in one write transaction of the store and commits it
	// when fn succeeds; a store with several writers may run fn again
	// after it lost a race, so fn sets every result it returns.
	Update func(ctx context.Context, fn func(Steps) error) error
	// Lifetimes returns the store's session lifetimes.
	Lifetimes func() storekit.Lifetimes
	// Secrets returns what seals the store's secrets.
	Secrets func() storekit.Secrets
}

// StoreInbound implements backend.MessageService.
func (w Writes) StoreInbound(ctx context.Context, in *backend.InboundMessage) (*backend.Message, bool, error) {
	var m *backend.Message
	created := false
	err := w.Update(ctx, func(tx Steps) (err error) {
		m, created, err = StoreInbound(ctx, tx, in)
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
func (w Writes) ImportInbound(ctx context.Context, batch []*backend.InboundMessage) (n int, err error) {
	err = w.Update(ctx, func(tx Steps) (err error) {
		n, err = ImportInbound(ctx, tx, batch)
		return err
	})
	return n, err
}

// StoreOutbound implements backend.MessageService.
func (w Writes) StoreOutbound(ctx context.Context, out *backend.OutboundMessage) (*backend.Message, bool, error) {
	if err := storekit.CheckOutbound(out); err != nil {
		return nil, false, err
	}
	var m *backend.Message
	created := false
	err := w.Update(ctx, func(tx Steps) (err error) {
		m, created, err = StoreOutbound(ctx, tx, out)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return m, created, nil
}

// SetDeliveryStatus implements backend.MessageService.
func (w Writes) SetDeliveryStatus(ctx context.Context, id, status, reason string) (*backend.Message, error) {
	if err := storekit.CheckDelivery(status); err != nil {
		return nil, err
	}
	var m *backend.Message
	err := w.Update(ctx, func(tx Steps) (err error) {
		m, err = SetDeliveryStatus(ctx, tx, id, status, reason)
		return err
	})
	return m, err
}

// OpenCall implements backend.CallService.
func (w Writes) OpenCall(ctx context.Context, c *backend.Call, caller backend.Identity, threadKey string, note backend.CallNote) error {
	if err := storekit.CheckCall(c, caller); err != nil {
		return err
	}
	return w.Update(ctx, func(tx Steps) error { return OpenCall(ctx, tx, c, caller, threadKey, note) })
}

// SaveCall implements backend.CallService.
func (w Writes) SaveCall(ctx context.Context, c *backend.Call, note backend.CallNote) error {
	return w.Update(ctx, func(tx Steps) error { return SaveCall(ctx, tx, c, note) })
}

// PutMedia implements backend.MediaService.
func (w Writes) PutMedia(ctx context.Context, f *backend.MediaFile, data []byte) error {
	if len(data) == 0 {
		return backend.Errorf(backend.EInvalid, "The file is empty.")
	}
	return w.Update(ctx, func(tx Steps) error { return PutMedia(ctx, tx, f, data) })
}

// SettleMediaFetch implements backend.MediaService.
func (w Writes) SettleMediaFetch(ctx context.Context, id string, res *backend.MediaFetch) error {
	return w.Update(ctx, func(tx Steps) error { return SettleMediaFetch(ctx, tx, id, res) })
}

// ResolveIdentity implements backend.ContactService.
func (w Writes) ResolveIdentity(ctx context.Context, id backend.Identity) (*backend.Contact, error) {
	var c *backend.Contact
	err := w.Update(ctx, func(tx Steps) (err error) {
		c, err = ResolveIdentity(ctx, tx, id)
		return err
	})
	return c, err
}

// UpdateContact implements backend.ContactService.
func (w Writes) UpdateContact(ctx context.Context, c *backend.Contact) error {
	if c.Attributes == nil {
		c.Attributes = map[string]string{}
	}
	return w.Update(ctx, func(tx Steps) error { return UpdateContact(ctx, tx, c) })
}

// MergeContacts implements backend.ContactService.
func (w Writes) MergeContacts(ctx context.Context, dst, src string) (*backend.Contact, error) {
	if dst == src {
		return nil, backend.Errorf(backend.EInvalid, "A contact cannot be merged into itself.")
	}
	var out *backend.Contact
	err := w.Update(ctx, func(tx Steps) (err error) {
		out, err = MergeContacts(ctx, tx, dst, src)
		return err
	})
	return out, err
}

// RevokeToken implements backend.UserService.
func (w Writes) RevokeToken(ctx context.Context, token string) error {
	id := storekit.HashToken(token)
	return w.Update(ctx, func(tx Steps) error { return RevokeSession(ctx, tx, id) })
}

// RevokeUserSessions implements backend.UserService.
func (w Writes) RevokeUserSessions(ctx context.Context, userID, keepSessionID, reason string) (n int, err error) {
	err = w.Update(ctx, func(tx Steps) (err error) {
		n, err = RevokeSessions(ctx, tx, userID, keepSessionID, reason)
		return err
	})
	return n, err
}

// CheckSessions implements backend.UserService.
func (w Writes) CheckSessions(ctx context.Context, ids []string) (invalid []string, err error) {
	err = w.Update(ctx, func(tx Steps) (err error) {
		invalid, err = CheckSessions(ctx, tx, w.Lifetimes(), ids)
		return err
	})
	return invalid, err
}

// CompleteOutbox implements backend.ChannelService.
func (w Writes) CompleteOutbox(ctx context.Context, id, externalID, status string) (*backend.Message, error) {
	if backend.DeliveryRank(status) == 0 {
		status = backend.DeliverySent
	}
	var m *backend.Message
	err := w.Update(ctx, func(tx Steps) (err error) {
		m, err = CompleteOutbox(ctx, tx, id, externalID, status)
		return err
	})
	return m, err
}

// FailOutbox implements backend.ChannelService.
func (w Writes) FailOutbox(ctx context.Context, id, reason string) (*backend.Message, error) {
	var m *backend.Message
	err := w.Update(ctx, func(tx Steps) (err error) {
		m, err = FailOutbox(ctx, tx, id, reason)
		return err
	})
	return m, err
}

// PutWebchatUpload stores a file a visitor uploaded to a widget instance,
// unless it would take the visitor or the instance over quota (ETooLarge,
// with a sentence saying which).
func (w Writes) PutWebchatUpload(ctx context.Context, id, instance, subject, name, typ string, data []byte, q backend.UploadQuota) error {
	return w.Update(ctx, func(tx Steps) error {
		return PutWebchatUpload(ctx, tx, id, instance, subject, name, typ, data, q)
	})
}

// AttachWebchatUploads marks a visitor's uploads as carried by a message,
// so they are kept, and returns them as attachments in the order given.
// An id that is not the visitor's upload on this instance (or was deleted
// as never attached) is EInvalid, and nothing is marked.
func (w Writes) AttachWebchatUploads(ctx context.Context, instance, subject string, ids []string, urlOf func(id string) string) (out []backend.Attachment, err error) {
	err = w.Update(ctx, func(tx Steps) (err error) {
		out, err = AttachWebchatUploads(ctx, tx, instance, subject, ids, urlOf)
		return err
	})
	return out, err
}

// DeleteOrphanWebchatUploads deletes the uploads no message carries that
// were made before cutoff, and returns how many.
func (w Writes) DeleteOrphanWebchatUploads(ctx context.Context, cutoff time.Time) (n int, err error) {
	err = w.Update(ctx, func(tx Steps) (err error) {
		n, err = DeleteOrphanWebchatUploads(ctx, tx, cutoff)
		return err
	})
	return n, err
}

// CreateInvite implements backend.InviteService.
func (w Writes) CreateInvite(ctx context.Context, inv *backend.Invite) (string, error) {
	inv.Email = strings.TrimSpace(inv.Email)
	if err := storekit.CheckInvite(inv); err != nil {
		return "", err
	}
	token, err := storekit.NewToken()
	if err != nil {
		return "", err
	}
	err = w.Update(ctx, func(tx Steps) error { return CreateInvite(ctx, tx, inv, storekit.HashToken(token)) })
	return token, err
}
