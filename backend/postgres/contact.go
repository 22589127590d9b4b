package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	"switchboard/backend"
	"switchboard/backend/internal/storetx"
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

var _ storetx.ContactTx = steps{}

// IdentityContactID implements storetx.ContactTx.
func (s steps) IdentityContactID(ctx context.Context, id backend.Identity) (string, error) {
	var contactID string
	err := s.QueryRow(ctx, `SELECT contact_id FROM identities WHERE channel = $1 AND external_id = $2`, id.Channel, id.ExternalID).Scan(&contactID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("find identity: %w", err)
	}
	return contactID, nil
}

// ContactByPhone implements storetx.ContactTx.
func (s steps) ContactByPhone(ctx context.Context, phone string) (string, error) {
	var contactID string
	err := s.QueryRow(ctx, `SELECT id FROM contacts WHERE phone = $1 AND merged_into IS NULL ORDER BY created_at LIMIT 1`, phone).Scan(&contactID)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("find contact by phone: %w", err)
	}
	return contactID, nil
}

// InsertContact implements storetx.ContactTx.
func (s steps) InsertContact(ctx context.Context, id, name, phone string) error {
	if _, err := s.Exec(ctx, `INSERT INTO contacts (id, name, phone, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
		id, name, phone, s.Now()); err != nil {
		return fmt.Errorf("insert contact: %w", err)
	}
	return nil
}

// InsertIdentity implements storetx.ContactTx.
func (s steps) InsertIdentity(ctx context.Context, id backend.Identity, contactID string) error {
	if _, err := s.Exec(ctx, `INSERT INTO identities (channel, external_id, contact_id, display_name, created_at) VALUES ($1, $2, $3, $4, $5)`,
		id.Channel, id.ExternalID, contactID, id.DisplayName, s.Now()); err != nil {
		return fmt.Errorf("insert identity: %w", err)
	}
	return nil
}

// FindContact implements storetx.ContactTx.
func (s steps) FindContact(ctx context.Context, id string) (*backend.Contact, error) {
	return findContact(ctx, s.Tx, id)
}

// contactColumns are the columns scanContact reads.
const contactColumns = `id, name, email, phone, attributes, merged_into, created_at, updated_at`

// scanContact reads a contact's row, without its identities.
func scanContact(s scanner) (*backend.Contact, error) {
	var c backend.Contact
	var merged *string
	if err := s.Scan(&c.ID, &c.Name, &c.Email, &c.Phone, &c.Attributes, &merged, at{&c.CreatedAt}, at{&c.UpdatedAt}); err != nil {
		return nil, err
	}
	if merged != nil {
		c.MergedInto = *merged
	}
	if c.Attributes == nil {
		c.Attributes = map[string]string{}
	}
	c.Identities = []backend.Identity{}
	return &c, nil
}

func findContact(ctx context.Context, q querier, id string) (*backend.Contact, error) {
	c, err := scanContact(q.QueryRow(ctx, `SELECT `+contactColumns+` FROM contacts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "Contact %s does not exist.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find contact: %w", err)
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
	return c, nil
}

// FindContactByID implements backend.ContactService.
func (db *DB) FindContactByID(ctx context.Context, id string) (*backend.Contact, error) {
	return findContact(ctx, db.pool, id)
}

// UpdateContactRow implements storetx.ContactTx.
func (s steps) UpdateContactRow(ctx context.Context, c *backend.Contact) (bool, error) {
	tag, err := s.Exec(ctx, `UPDATE contacts SET name = $1, email = $2, phone = $3, attributes = $4, updated_at = $5 WHERE id = $6`,
		c.Name, c.Email, c.Phone, c.Attributes, s.Now(), c.ID)
	if err != nil {
		return false, fmt.Errorf("update contact: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// MoveContactRows implements storetx.ContactTx.
func (s steps) MoveContactRows(ctx context.Context, dst, src string) error {
	for _, table := range []string{"identities", "conversations", "messages"} {
		if _, err := s.Exec(ctx, `UPDATE `+table+` SET contact_id = $1 WHERE contact_id = $2`, dst, src); err != nil {
			return fmt.Errorf("merge contacts: %w", err)
		}
	}
	return nil
}

// MarkMerged implements storetx.ContactTx, in one statement.
func (s steps) MarkMerged(ctx context.Context, dst, src string) error {
	if _, err := s.Exec(ctx, `UPDATE contacts SET merged_into = CASE WHEN id = $2 THEN $1 ELSE merged_into END, updated_at = $3 WHERE id IN ($1, $2)`,
		dst, src, s.Now()); err != nil {
		return fmt.Errorf("merge contacts: %w", err)
	}
	return nil
}

// AppendContactConversationEvents implements storetx.ContactTx.
func (s steps) AppendContactConversationEvents(ctx context.Context, contactID string) error {
	return appendConversationEvents(ctx, s.Tx, `contact_id = $1`, contactID)
}
