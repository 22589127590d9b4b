package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"switchboard/backend"
	"switchboard/backend/internal/storetx"
)

var _ storetx.ContactTx = steps{}

// IdentityContactID implements storetx.ContactTx.
func (s steps) IdentityContactID(ctx context.Context, id backend.Identity) (string, error) {
	var contactID string
	err := s.QueryRowContext(ctx, `SELECT contact_id FROM identities WHERE channel = ? AND external_id = ?`, id.Channel, id.ExternalID).Scan(&contactID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("find identity: %w", err)
	}
	return contactID, nil
}

// ContactByPhone implements storetx.ContactTx.
func (s steps) ContactByPhone(ctx context.Context, phone string) (string, error) {
	var contactID string
	err := s.QueryRowContext(ctx, `SELECT id FROM contacts WHERE phone = ? AND merged_into IS NULL ORDER BY created_at LIMIT 1`, phone).Scan(&contactID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("find contact by phone: %w", err)
	}
	return contactID, nil
}

// InsertContact implements storetx.ContactTx.
func (s steps) InsertContact(ctx context.Context, id, name, phone string) error {
	if _, err := s.ExecContext(ctx, `INSERT INTO contacts (id, name, phone, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		id, name, phone, formatTime(s.Now()), formatTime(s.Now())); err != nil {
		return fmt.Errorf("insert contact: %w", err)
	}
	return nil
}

// InsertIdentity implements storetx.ContactTx.
func (s steps) InsertIdentity(ctx context.Context, id backend.Identity, contactID string) error {
	if _, err := s.ExecContext(ctx, `INSERT INTO identities (channel, external_id, contact_id, display_name, created_at) VALUES (?, ?, ?, ?, ?)`,
		id.Channel, id.ExternalID, contactID, id.DisplayName, formatTime(s.Now())); err != nil {
		return fmt.Errorf("insert identity: %w", err)
	}
	return nil
}

// FindContact implements storetx.ContactTx.
func (s steps) FindContact(ctx context.Context, id string) (*backend.Contact, error) {
	return findContact(ctx, s.Tx, id)
}

// queryer is what both *sql.DB and *Tx offer for reads.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// contactColumns are the columns scanContact reads.
const contactColumns = `id, name, email, phone, attributes, merged_into, created_at, updated_at`

// scanContact reads a contact's row, without its identities.
func scanContact(s interface{ Scan(...any) error }) (*backend.Contact, error) {
	var c backend.Contact
	var attrs, created, updated string
	var merged sql.NullString
	if err := s.Scan(&c.ID, &c.Name, &c.Email, &c.Phone, &attrs, &merged, &created, &updated); err != nil {
		return nil, err
	}
	c.MergedInto, c.CreatedAt, c.UpdatedAt = merged.String, parseTime(created), parseTime(updated)
	c.Attributes = map[string]string{}
	if err := json.Unmarshal([]byte(attrs), &c.Attributes); err != nil {
		return nil, fmt.Errorf("contact %s attributes: %w", c.ID, err)
	}
	c.Identities = []backend.Identity{}
	return &c, nil
}

func findContact(ctx context.Context, q queryer, id string) (*backend.Contact, error) {
	c, err := scanContact(q.QueryRowContext(ctx, `SELECT `+contactColumns+` FROM contacts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "Contact %s does not exist.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find contact: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT channel, external_id, display_name FROM identities WHERE contact_id = ? ORDER BY created_at, channel`, id)
	if err != nil {
		return nil, fmt.Errorf("find identities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		i := backend.Identity{ContactID: id}
		if err := rows.Scan(&i.Channel, &i.ExternalID, &i.DisplayName); err != nil {
			return nil, err
		}
		c.Identities = append(c.Identities, i)
	}
	return c, rows.Err()
}

// FindContactByID implements backend.ContactService.
func (db *DB) FindContactByID(ctx context.Context, id string) (*backend.Contact, error) {
	return findContact(ctx, db.r, id)
}

// UpdateContactRow implements storetx.ContactTx.
func (s steps) UpdateContactRow(ctx context.Context, c *backend.Contact) (bool, error) {
	attrs, err := json.Marshal(c.Attributes)
	if err != nil {
		return false, err
	}
	res, err := s.ExecContext(ctx, `UPDATE contacts SET name = ?, email = ?, phone = ?, attributes = ?, updated_at = ? WHERE id = ?`,
		c.Name, c.Email, c.Phone, string(attrs), formatTime(s.Now()), c.ID)
	if err != nil {
		return false, fmt.Errorf("update contact: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// MoveContactRows implements storetx.ContactTx.
func (s steps) MoveContactRows(ctx context.Context, dst, src string) error {
	for _, stmt := range []string{
		`UPDATE identities SET contact_id = ? WHERE contact_id = ?`,
		`UPDATE conversations SET contact_id = ? WHERE contact_id = ?`,
		`UPDATE messages SET contact_id = ? WHERE contact_id = ?`,
	} {
		if _, err := s.ExecContext(ctx, stmt, dst, src); err != nil {
			return fmt.Errorf("merge contacts: %w", err)
		}
	}
	return nil
}

// MarkMerged implements storetx.ContactTx.
func (s steps) MarkMerged(ctx context.Context, dst, src string) error {
	if _, err := s.ExecContext(ctx, `UPDATE contacts SET merged_into = ?, updated_at = ? WHERE id = ?`, dst, formatTime(s.Now()), src); err != nil {
		return fmt.Errorf("merge contacts: %w", err)
	}
	if _, err := s.ExecContext(ctx, `UPDATE contacts SET updated_at = ? WHERE id = ?`, formatTime(s.Now()), dst); err != nil {
		return fmt.Errorf("merge contacts: %w", err)
	}
	return nil
}

// AppendContactConversationEvents implements storetx.ContactTx.
func (s steps) AppendContactConversationEvents(ctx context.Context, contactID string) error {
	return appendConversationEvents(ctx, s.Tx, `contact_id = ?`, contactID)
}
