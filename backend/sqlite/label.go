package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

var _ backend.LabelService = (*DB)(nil)

// PutLabel implements backend.LabelService.
func (db *DB) PutLabel(ctx context.Context, l *backend.Label) error {
	if err := storekit.CheckLabel(l); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM labels WHERE name = ? AND id <> ?`, l.Name, l.ID).Scan(&n); err != nil {
			return err
		} else if n > 0 {
			return backend.Errorf(backend.EConflict, "A label named %s already exists.", l.Name)
		}
		l.UpdatedAt = tx.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO labels (id, name, color, description, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, color = excluded.color, description = excluded.description,
			updated_at = excluded.updated_at`, l.ID, l.Name, l.Color, l.Description, formatTime(l.UpdatedAt)); err != nil {
			return fmt.Errorf("put label: %w", err)
		}
		return tx.AppendEvent(ctx, backend.EventLabelUpserted, l.ID, l)
	})
}

// FindLabels implements backend.LabelService.
func (db *DB) FindLabels(ctx context.Context) ([]*backend.Label, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, name, color, description, updated_at FROM labels ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("find labels: %w", err)
	}
	defer rows.Close()
	out := []*backend.Label{}
	for rows.Next() {
		var l backend.Label
		var updated string
		if err := rows.Scan(&l.ID, &l.Name, &l.Color, &l.Description, &updated); err != nil {
			return nil, err
		}
		l.UpdatedAt = parseTime(updated)
		out = append(out, &l)
	}
	return out, rows.Err()
}

// DeleteLabel implements backend.LabelService.
func (db *DB) DeleteLabel(ctx context.Context, id string) error {
	return db.update(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM labels WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete label: %w", err)
		} else if n, _ := res.RowsAffected(); n == 0 {
			return backend.Errorf(backend.ENotFound, "Label %s does not exist.", id)
		}
		// Take it off the conversations that carry it, each with an event.
		rows, err := tx.QueryContext(ctx, `SELECT id FROM conversations WHERE EXISTS (SELECT 1 FROM json_each(conversations.labels) WHERE value = ?)`, id)
		if err != nil {
			return fmt.Errorf("find labelled conversations: %w", err)
		}
		var convs []string
		for rows.Next() {
			var cid string
			if err := rows.Scan(&cid); err != nil {
				rows.Close()
				return err
			}
			convs = append(convs, cid)
		}
		rows.Close()
		for _, cid := range convs {
			if _, err := tx.ExecContext(ctx, `UPDATE conversations SET labels = (SELECT COALESCE(json_group_array(value), '[]')
				FROM json_each(conversations.labels) WHERE value <> ?), updated_at = ? WHERE id = ?`, id, formatTime(tx.Now()), cid); err != nil {
				return fmt.Errorf("unlabel conversation: %w", err)
			}
			c, err := findConversation(ctx, tx, cid)
			if err != nil {
				return err
			}
			if err := tx.AppendEvent(ctx, backend.EventConversationUpserted, c.ID, c); err != nil {
				return err
			}
		}
		return tx.AppendEvent(ctx, backend.EventLabelDeleted, id, map[string]string{"id": id})
	})
}

// SetConversationLabels implements backend.LabelService.
func (db *DB) SetConversationLabels(ctx context.Context, conversationID string, labelIDs []string) (*backend.Conversation, error) {
	ids := storekit.LabelSet(labelIDs)
	raw, _ := json.Marshal(ids)
	var c *backend.Conversation
	err := db.update(ctx, func(tx *Tx) error {
		for _, id := range ids {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM labels WHERE id = ?`, id).Scan(&n); err != nil {
				return err
			} else if n == 0 {
				return backend.Errorf(backend.EInvalid, "Label %s does not exist.", id)
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE conversations SET labels = ?, updated_at = ? WHERE id = ?`, string(raw), formatTime(tx.Now()), conversationID)
		if err != nil {
			return fmt.Errorf("set labels: %w", err)
		} else if n, _ := res.RowsAffected(); n == 0 {
			return backend.Errorf(backend.ENotFound, "Conversation %s does not exist.", conversationID)
		}
		if c, err = findConversation(ctx, tx, conversationID); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, backend.EventConversationUpserted, c.ID, c)
	})
	return c, err
}

// DeleteCannedResponse implements backend.LabelService.
func (db *DB) DeleteCannedResponse(ctx context.Context, id string) error {
	return db.update(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM canned_responses WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete canned response: %w", err)
		} else if n, _ := res.RowsAffected(); n == 0 {
			return backend.Errorf(backend.ENotFound, "Canned response %s does not exist.", id)
		}
		return tx.AppendEvent(ctx, backend.EventCannedDeleted, id, map[string]string{"id": id})
	})
}
