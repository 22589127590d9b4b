package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// lock takes transaction advisory locks on names, in sorted order (so two
// transactions never wait on each other in a cycle). Nodes take them where
// SQLite's single writer kept them apart: creating one customer's contact,
// opening a thread's conversation, changing who reads a customer's
// conversations.
func lock(ctx context.Context, tx *Tx, names ...string) error {
	sort.Strings(names)
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(n, 0)) FROM (SELECT n FROM unnest($1::text[]) AS n ORDER BY n) AS s`, names)
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	return nil
}

// ResolveIdentity implements backend.ContactService.
func (db *DB) ResolveIdentity(ctx context.Context, id backend.Identity) (*backend.Contact, error) {
	var c *backend.Contact
	err := db.update(ctx, func(tx *Tx) (err error) {
		c, err = resolveIdentity(ctx, tx, id)
		return err
	})
	return c, err
}

// resolveIdentity finds or creates the contact for an identity inside tx.
func resolveIdentity(ctx context.Context, tx *Tx, id backend.Identity) (*backend.Contact, error) {
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
	if err := lock(ctx, tx, name); err != nil {
		return nil, err
	}
	if c, err := identityContact(ctx, tx, id); c != nil || err != nil {
		return c, err
	}
	var contactID string
	if phone != "" {
		err := tx.QueryRow(ctx, `SELECT id FROM contacts WHERE phone = $1 AND merged_into IS NULL ORDER BY created_at LIMIT 1`, phone).Scan(&contactID)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("find contact by phone: %w", err)
		}
	}
	if contactID == "" {
		contactID = backend.NewID("ct")
		if _, err := tx.Exec(ctx, `INSERT INTO contacts (id, name, phone, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
			contactID, storekit.NewContactName(id), phone, tx.Now()); err != nil {
			return nil, fmt.Errorf("insert contact: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO identities (channel, external_id, contact_id, display_name, created_at) VALUES ($1, $2, $3, $4, $5)`,
		id.Channel, id.ExternalID, contactID, id.DisplayName, tx.Now()); err != nil {
		return nil, fmt.Errorf("insert identity: %w", err)
	}
	c, err := findContact(ctx, tx, contactID)
	if err != nil {
		return nil, err
	}
	return c, tx.AppendEvent(ctx, backend.EventContactUpserted, c.ID, c)
}

// identityContact returns the contact of a known identity (nil when unknown).
func identityContact(ctx context.Context, tx *Tx, id backend.Identity) (*backend.Contact, error) {
	var contactID string
	err := tx.QueryRow(ctx, `SELECT contact_id FROM identities WHERE channel = $1 AND external_id = $2`, id.Channel, id.ExternalID).Scan(&contactID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("find identity: %w", err)
	}
	return findContact(ctx, tx, contactID)
}

func findContact(ctx context.Context, q querier, id string) (*backend.Contact, error) {
	var c backend.Contact
	var merged *string
	err := q.QueryRow(ctx, `SELECT id, name, email, phone, attributes, merged_into, created_at, updated_at FROM contacts WHERE id = $1`, id).
		Scan(&c.ID, &c.Name, &c.Email, &c.Phone, &c.Attributes, &merged, at{&c.CreatedAt}, at{&c.UpdatedAt})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "Contact %s does not exist.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find contact: %w", err)
	}
	if merged != nil {
		c.MergedInto = *merged
	}
	if c.Attributes == nil {
		c.Attributes = map[string]string{}
	}
	c.Identities, err = collect(ctx, q, func(s scanner) (backend.Identity, error) {
		i := backend.Identity{ContactID: id}
		return i, s.Scan(&i.Channel, &i.ExternalID, &i.DisplayName)
	}, `SELECT channel, external_id, display_name FROM identities WHERE contact_id = $1 ORDER BY created_at, channel`, id)
	if err != nil {
		return nil, fmt.Errorf("find identities: %w", err)
	}
	if c.Identities == nil {
		c.Identities = []backend.Identity{}
	}
	return &c, nil
}

// FindContactByID implements backend.ContactService.
func (db *DB) FindContactByID(ctx context.Context, id string) (*backend.Contact, error) {
	return findContact(ctx, db.pool, id)
}

// UpdateContact implements backend.ContactService.
func (db *DB) UpdateContact(ctx context.Context, c *backend.Contact) error {
	if c.Attributes == nil {
		c.Attributes = map[string]string{}
	}
	return db.update(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE contacts SET name = $1, email = $2, phone = $3, attributes = $4, updated_at = $5 WHERE id = $6`,
			c.Name, c.Email, c.Phone, c.Attributes, tx.Now(), c.ID)
		if err != nil {
			return fmt.Errorf("update contact: %w", err)
		} else if tag.RowsAffected() == 0 {
			return backend.Errorf(backend.ENotFound, "Contact %s does not exist.", c.ID)
		}
		fresh, err := findContact(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		*c = *fresh
		return tx.AppendEvent(ctx, backend.EventContactUpserted, c.ID, c)
	})
}

// MergeContacts implements backend.ContactService.
func (db *DB) MergeContacts(ctx context.Context, dst, src string) (*backend.Contact, error) {
	if dst == src {
		return nil, backend.Errorf(backend.EInvalid, "A contact cannot be merged into itself.")
	}
	var out *backend.Contact
	err := db.update(ctx, func(tx *Tx) error {
		for _, id := range []string{dst, src} {
			if _, err := findContact(ctx, tx, id); err != nil {
				return err
			}
		}
		// One customer now: whoever works on one of their conversations
		// sees the others as history.
		err := withContactAccess(ctx, tx, []string{dst, src}, func() error {
			for _, table := range []string{"identities", "conversations", "messages"} {
				if _, err := tx.Exec(ctx, `UPDATE `+table+` SET contact_id = $1 WHERE contact_id = $2`, dst, src); err != nil {
					return fmt.Errorf("merge contacts: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE contacts SET merged_into = CASE WHEN id = $2 THEN $1 ELSE merged_into END, updated_at = $3 WHERE id IN ($1, $2)`,
			dst, src, tx.Now()); err != nil {
			return fmt.Errorf("merge contacts: %w", err)
		}
		old, err := findContact(ctx, tx, src)
		if err != nil {
			return err
		}
		if out, err = findContact(ctx, tx, dst); err != nil {
			return err
		}
		if err := tx.AppendEvent(ctx, backend.EventContactUpserted, old.ID, old); err != nil {
			return err
		}
		if err := tx.AppendEvent(ctx, backend.EventContactUpserted, out.ID, out); err != nil {
			return err
		}
		return appendConversationEvents(ctx, tx, `contact_id = $1`, dst)
	})
	return out, err
}
