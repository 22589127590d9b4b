package sqlite

import (
	"context"
	"fmt"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

var _ backend.CannedService = (*DB)(nil)

// PutCannedResponse implements backend.CannedService.
func (db *DB) PutCannedResponse(ctx context.Context, c *backend.CannedResponse) error {
	if err := storekit.CheckCanned(c); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM canned_responses WHERE shortcut = ? AND id <> ?`, c.Shortcut, c.ID).Scan(&n); err != nil {
			return err
		} else if n > 0 {
			return storekit.ErrShortcutTaken(c.Shortcut)
		}
		c.UpdatedAt = tx.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO canned_responses (id, shortcut, title, text, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET shortcut = excluded.shortcut, title = excluded.title, text = excluded.text, updated_at = excluded.updated_at`,
			c.ID, c.Shortcut, c.Title, c.Text, formatTime(c.UpdatedAt)); err != nil {
			return fmt.Errorf("put canned response: %w", err)
		}
		return tx.AppendEvent(ctx, backend.EventCannedUpserted, c.ID, c)
	})
}

// FindCannedResponses implements backend.CannedService.
func (db *DB) FindCannedResponses(ctx context.Context) ([]*backend.CannedResponse, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, shortcut, title, text, updated_at FROM canned_responses ORDER BY shortcut`)
	if err != nil {
		return nil, fmt.Errorf("find canned responses: %w", err)
	}
	defer rows.Close()
	out := []*backend.CannedResponse{}
	for rows.Next() {
		var c backend.CannedResponse
		var updated string
		if err := rows.Scan(&c.ID, &c.Shortcut, &c.Title, &c.Text, &updated); err != nil {
			return nil, err
		}
		c.UpdatedAt = parseTime(updated)
		out = append(out, &c)
	}
	return out, rows.Err()
}
