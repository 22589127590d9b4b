package storetx

import (
	"context"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// ContactTx is the steps of the contact transactions.
type ContactTx interface {
	AccessTx
	// FindContact returns a contact with its identities, or ENotFound.
	FindContact(ctx context.Context, id string) (*backend.Contact, error)
	// IdentityContactID returns the contact of a known identity, or "".
	IdentityContactID(ctx context.Context, id backend.Identity) (string, error)
	// ContactByPhone returns the oldest unmerged contact with the phone
	// number, or "".
	ContactByPhone(ctx context.Context, phone string) (string, error)
	// InsertContact stores a new contact.
	InsertContact(ctx context.Context, id, name, phone string) error
	// InsertIdentity stores an identity of the contact.
	InsertIdentity(ctx context.Context, id backend.Identity, contactID string) error
	// UpdateContactRow writes c's name, email, phone and attributes; it
	// reports false when there is no such contact.
	UpdateContactRow(ctx context.Context, c *backend.Contact) (bool, error)
	// MoveContactRows moves src's identities, conversations and messages
	// to dst.
	MoveContactRows(ctx context.Context, dst, src string) error
	// MarkMerged records that src was merged into dst and that both
	// changed now.
	MarkMerged(ctx context.Context, dst, src string) error
	// AppendContactConversationEvents appends an upsert event for every
	// conversation of the contact.
	AppendContactConversationEvents(ctx context.Context, contactID string) error
}

// ResolveIdentity finds or creates the contact for an identity: a known
// number on a new phone channel joins its contact.
func ResolveIdentity(ctx context.Context, tx ContactTx, id backend.Identity) (*backend.Contact, error) {
	if err := storekit.CheckIdentity(id); err != nil {
		return nil, err
	}
	if c, err := identityContact(ctx, tx, id); c != nil || err != nil {
		return c, err
	}
	// A new customer, or a known number on a new channel: one transaction
	// at a time decides which.
	phone := storekit.IdentityPhone(id)
	name := "identity:" + id.Channel + "|" + id.ExternalID
	if phone != "" {
		name = "phone:" + phone
	}
	if locked, err := tx.Lock(ctx, name); err != nil {
		return nil, err
	} else if locked {
		if c, err := identityContact(ctx, tx, id); c != nil || err != nil {
			return c, err
		}
	}
	var contactID string
	if phone != "" {
		var err error
		if contactID, err = tx.ContactByPhone(ctx, phone); err != nil {
			return nil, err
		}
	}
	var c *backend.Contact
	if contactID == "" {
		// A new customer: the contact is what was just written, with
		// this one identity; nothing to read back.
		c = &backend.Contact{ID: backend.NewID("ct"), Name: storekit.NewContactName(id), Phone: phone,
			Attributes: map[string]string{}, CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
		c.Identities = []backend.Identity{{ContactID: c.ID, Channel: id.Channel, ExternalID: id.ExternalID, DisplayName: id.DisplayName}}
		if err := tx.InsertContact(ctx, c.ID, c.Name, phone); err != nil {
			return nil, err
		}
		contactID = c.ID
	}
	if err := tx.InsertIdentity(ctx, id, contactID); err != nil {
		return nil, err
	}
	if c == nil { // the identity joined a known number's contact
		var err error
		if c, err = tx.FindContact(ctx, contactID); err != nil {
			return nil, err
		}
	}
	return c, tx.AppendEvent(ctx, backend.EventContactUpserted, c.ID, c)
}

// identityContact returns the contact of a known identity (nil when unknown).
func identityContact(ctx context.Context, tx ContactTx, id backend.Identity) (*backend.Contact, error) {
	contactID, err := tx.IdentityContactID(ctx, id)
	if contactID == "" || err != nil {
		return nil, err
	}
	return tx.FindContact(ctx, contactID)
}

// UpdateContact writes a contact's details (ENotFound for an unknown one)
// and reads it back into c.
func UpdateContact(ctx context.Context, tx ContactTx, c *backend.Contact) error {
	if found, err := tx.UpdateContactRow(ctx, c); err != nil {
		return err
	} else if !found {
		return backend.Errorf(backend.ENotFound, "Contact %s does not exist.", c.ID)
	}
	fresh, err := tx.FindContact(ctx, c.ID)
	if err != nil {
		return err
	}
	*c = *fresh
	return tx.AppendEvent(ctx, backend.EventContactUpserted, c.ID, c)
}

// MergeContacts makes src part of dst (both must exist; dst != src) and
// returns dst.
func MergeContacts(ctx context.Context, tx ContactTx, dst, src string) (*backend.Contact, error) {
	for _, id := range []string{dst, src} {
		if _, err := tx.FindContact(ctx, id); err != nil {
			return nil, err
		}
	}
	// One customer now: whoever works on one of their conversations
	// sees the others as history.
	err := WithContactAccess(ctx, tx, []string{dst, src}, func() error { return tx.MoveContactRows(ctx, dst, src) })
	if err != nil {
		return nil, err
	}
	if err := tx.MarkMerged(ctx, dst, src); err != nil {
		return nil, err
	}
	old, err := tx.FindContact(ctx, src)
	if err != nil {
		return nil, err
	}
	out, err := tx.FindContact(ctx, dst)
	if err != nil {
		return nil, err
	}
	if err := tx.AppendEvent(ctx, backend.EventContactUpserted, old.ID, old); err != nil {
		return out, err
	}
	if err := tx.AppendEvent(ctx, backend.EventContactUpserted, out.ID, out); err != nil {
		return out, err
	}
	return out, tx.AppendContactConversationEvents(ctx, dst)
}
