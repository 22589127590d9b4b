package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

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
	var contactID string
	err := tx.QueryRowContext(ctx, `SELECT contact_id FROM identities WHERE channel = ? AND external_id = ?`, id.Channel, id.ExternalID).Scan(&contactID)
	if err == nil {
		return findContact(ctx, tx, contactID)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find identity: %w", err)
	}

	phone := storekit.IdentityPhone(id)
	if phone != "" {
		err := tx.QueryRowContext(ctx, `SELECT id FROM contacts WHERE phone = ? AND merged_into IS NULL ORDER BY created_at LIMIT 1`, phone).Scan(&contactID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("find contact by phone: %w", err)
		}
	}
	if contactID == "" {
		contactID = backend.NewID("ct")
		if _, err := tx.ExecContext(ctx, `INSERT INTO contacts (id, name, phone, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			contactID, storekit.NewContactName(id), phone, formatTime(tx.Now()), formatTime(tx.Now())); err != nil {
			return nil, fmt.Errorf("insert contact: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO identities (channel, external_id, contact_id, display_name, created_at) VALUES (?, ?, ?, ?, ?)`,
		id.Channel, id.ExternalID, contactID, id.DisplayName, formatTime(tx.Now())); err != nil {
		return nil, fmt.Errorf("insert identity: %w", err)
	}
	c, err := findContact(ctx, tx, contactID)
	if err != nil {
		return nil, err
	}
	return c, tx.AppendEvent(ctx, backend.EventContactUpserted, c.ID, c)
}

// queryer is what both *sql.DB and *Tx offer for reads.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func findContact(ctx context.Context, q queryer, id string) (*backend.Contact, error) {
	var c backend.Contact
	var attrs, created, updated string
	var merged sql.NullString
	err := q.QueryRowContext(ctx, `SELECT id, name, email, phone, attributes, merged_into, created_at, updated_at FROM contacts WHERE id = ?`, id).
		Scan(&c.ID, &c.Name, &c.Email, &c.Phone, &attrs, &merged, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "Contact %s does not exist.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find contact: %w", err)
	}
	c.MergedInto, c.CreatedAt, c.UpdatedAt = merged.String, parseTime(created), parseTime(updated)
	c.Attributes = map[string]string{}
	if err := json.Unmarshal([]byte(attrs), &c.Attributes); err != nil {
		return nil, fmt.Errorf("contact %s attributes: %w", id, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT channel, external_id, display_name FROM identities WHERE contact_id = ? ORDER BY created_at, channel`, id)
	if err != nil {
		return nil, fmt.Errorf("find identities: %w", err)
	}
	defer rows.Close()
	c.Identities = []backend.Identity{}
	for rows.Next() {
		i := backend.Identity{ContactID: id}
		if err := rows.Scan(&i.Channel, &i.ExternalID, &i.DisplayName); err != nil {
			return nil, err
		}
		c.Identities = append(c.Identities, i)
	}
	return &c, rows.Err()
}

// FindContactByID implements backend.ContactService.
func (db *DB) FindContactByID(ctx context.Context, id string) (*backend.Contact, error) {
	return findContact(ctx, db.r, id)
}

// UpdateContact implements backend.ContactService.
func (db *DB) UpdateContact(ctx context.Context, c *backend.Contact) error {
	if c.Attributes == nil {
		c.Attributes = map[string]string{}
	}
	attrs, err := json.Marshal(c.Attributes)
	if err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE contacts SET name = ?, email = ?, phone = ?, attributes = ?, updated_at = ? WHERE id = ?`,
			c.Name, c.Email, c.Phone, string(attrs), formatTime(tx.Now()), c.ID)
		if err != nil {
			return fmt.Errorf("update contact: %w", err)
		} else if n, _ := res.RowsAffected(); n == 0 {
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
			for _, stmt := range []string{
				`UPDATE identities SET contact_id = ? WHERE contact_id = ?`,
				`UPDATE conversations SET contact_id = ? WHERE contact_id = ?`,
				`UPDATE messages SET contact_id = ? WHERE contact_id = ?`,
			} {
				if _, err := tx.ExecContext(ctx, stmt, dst, src); err != nil {
					return fmt.Errorf("merge contacts: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE contacts SET merged_into = ?, updated_at = ? WHERE id = ?`, dst, formatTime(tx.Now()), src); err != nil {
			return fmt.Errorf("merge contacts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE contacts SET updated_at = ? WHERE id = ?`, formatTime(tx.Now()), dst); err != nil {
			return fmt.Errorf("merge contacts: %w", err)
		}
		if out, err = findContact(ctx, tx, dst); err != nil {
			return err
		}
		old, err := findContact(ctx, tx, src)
		if err != nil {
			return err
		}
		if err := tx.AppendEvent(ctx, backend.EventContactUpserted, old.ID, old); err != nil {
			return err
		}
		if err := tx.AppendEvent(ctx, backend.EventContactUpserted, out.ID, out); err != nil {
			return err
		}
		return appendConversationEvents(ctx, tx, `contact_id = ?`, dst)
	})
	return out, err
}
