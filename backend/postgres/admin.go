package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// Canned responses, labels and the audit log: what admins keep for agents.

var (
	_ backend.CannedService = (*DB)(nil)
	_ backend.LabelService  = (*DB)(nil)
	_ backend.AuditService  = (*DB)(nil)
)

// PutCannedResponse implements backend.CannedService.
func (db *DB) PutCannedResponse(ctx context.Context, c *backend.CannedResponse) error {
	if err := storekit.CheckCanned(c); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		if taken, err := exists(ctx, tx, `SELECT 1 FROM canned_responses WHERE lower(shortcut) = lower($1) AND id <> $2`, c.Shortcut, c.ID); err != nil {
			return err
		} else if taken {
			return storekit.ErrShortcutTaken(c.Shortcut)
		}
		c.UpdatedAt = tx.Now()
		if _, err := tx.Exec(ctx, `INSERT INTO canned_responses (id, shortcut, title, text, updated_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO UPDATE SET shortcut = excluded.shortcut, title = excluded.title, text = excluded.text, updated_at = excluded.updated_at`,
			c.ID, c.Shortcut, c.Title, c.Text, c.UpdatedAt); err != nil {
			return fmt.Errorf("put canned response: %w", err)
		}
		return tx.AppendEvent(ctx, backend.EventCannedUpserted, c.ID, c)
	})
}

// FindCannedResponses implements backend.CannedService.
func (db *DB) FindCannedResponses(ctx context.Context) ([]*backend.CannedResponse, error) {
	out, err := collect(ctx, db.pool, func(s scanner) (*backend.CannedResponse, error) {
		var c backend.CannedResponse
		return &c, s.Scan(&c.ID, &c.Shortcut, &c.Title, &c.Text, at{&c.UpdatedAt})
	}, `SELECT id, shortcut, title, text, updated_at FROM canned_responses ORDER BY shortcut`)
	if err != nil {
		return nil, fmt.Errorf("find canned responses: %w", err)
	}
	return nonNil(out), nil
}

// DeleteCannedResponse implements backend.LabelService.
func (db *DB) DeleteCannedResponse(ctx context.Context, id string) error {
	return db.deleteWithEvent(ctx, `DELETE FROM canned_responses WHERE id = $1`, id, backend.EventCannedDeleted,
		backend.Errorf(backend.ENotFound, "Canned response %s does not exist.", id), nil)
}

// deleteWithEvent deletes the row with id, runs then (if any) and appends
// typ with {"id"}; notFound when there is no such row.
func (db *DB) deleteWithEvent(ctx context.Context, sql, id, typ string, notFound error, then func(tx *Tx) error) error {
	return db.update(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, sql, id)
		if err != nil {
			return fmt.Errorf("delete %s: %w", id, err)
		} else if tag.RowsAffected() == 0 {
			return notFound
		}
		if then != nil {
			if err := then(tx); err != nil {
				return err
			}
		}
		return tx.AppendEvent(ctx, typ, id, map[string]string{"id": id})
	})
}

// PutLabel implements backend.LabelService.
func (db *DB) PutLabel(ctx context.Context, l *backend.Label) error {
	if err := storekit.CheckLabel(l); err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		if taken, err := exists(ctx, tx, `SELECT 1 FROM labels WHERE lower(name) = lower($1) AND id <> $2`, l.Name, l.ID); err != nil {
			return err
		} else if taken {
			return backend.Errorf(backend.EConflict, "A label named %s already exists.", l.Name)
		}
		l.UpdatedAt = tx.Now()
		if _, err := tx.Exec(ctx, `INSERT INTO labels (id, name, color, description, updated_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, color = excluded.color, description = excluded.description,
			updated_at = excluded.updated_at`, l.ID, l.Name, l.Color, l.Description, l.UpdatedAt); err != nil {
			return fmt.Errorf("put label: %w", err)
		}
		return tx.AppendEvent(ctx, backend.EventLabelUpserted, l.ID, l)
	})
}

// FindLabels implements backend.LabelService.
func (db *DB) FindLabels(ctx context.Context) ([]*backend.Label, error) {
	out, err := collect(ctx, db.pool, func(s scanner) (*backend.Label, error) {
		var l backend.Label
		return &l, s.Scan(&l.ID, &l.Name, &l.Color, &l.Description, at{&l.UpdatedAt})
	}, `SELECT id, name, color, description, updated_at FROM labels ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("find labels: %w", err)
	}
	return nonNil(out), nil
}

// DeleteLabel implements backend.LabelService: it takes the label off the
// conversations that carry it, each with an event.
func (db *DB) DeleteLabel(ctx context.Context, id string) error {
	return db.deleteWithEvent(ctx, `DELETE FROM labels WHERE id = $1`, id, backend.EventLabelDeleted,
		backend.Errorf(backend.ENotFound, "Label %s does not exist.", id), func(tx *Tx) error {
			convs, err := collect(ctx, tx, scanConversation, `UPDATE conversations SET labels = array_remove(labels, $1), updated_at = $2
				WHERE labels @> ARRAY[$1] RETURNING `+conversationColumns, id, tx.Now())
			if err != nil {
				return fmt.Errorf("unlabel conversations: %w", err)
			}
			for _, c := range convs {
				if err := tx.AppendEvent(ctx, backend.EventConversationUpserted, c.ID, c); err != nil {
					return err
				}
			}
			return nil
		})
}

// SetConversationLabels implements backend.LabelService.
func (db *DB) SetConversationLabels(ctx context.Context, conversationID string, labelIDs []string) (*backend.Conversation, error) {
	ids := storekit.LabelSet(labelIDs)
	var known int
	if err := db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM labels WHERE id = ANY ($1)`, ids).Scan(&known); err != nil {
		return nil, err
	}
	if known < len(ids) {
		missing, err := stringList(ctx, db.pool, `SELECT l FROM unnest($1::text[]) AS l WHERE l NOT IN (SELECT id FROM labels) ORDER BY l LIMIT 1`, ids)
		if err != nil {
			return nil, err
		}
		if len(missing) == 1 {
			return nil, backend.Errorf(backend.EInvalid, "Label %s does not exist.", missing[0])
		}
	}
	return db.updateConversation(ctx, conversationID, `labels = $2`, ids)
}

// AppendAudit implements backend.AuditService.
func (db *DB) AppendAudit(ctx context.Context, e *backend.AuditEntry) error {
	details := e.Details
	if len(details) == 0 || !json.Valid(details) {
		details = json.RawMessage("{}")
	}
	return db.update(ctx, func(tx *Tx) error {
		e.At = tx.Now()
		err := tx.QueryRow(ctx, `INSERT INTO audit_log (at, user_id, user_name, action, entity_type, entity_id, summary, details)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq`, e.At, e.UserID, e.UserName, e.Action, e.EntityType, e.EntityID, e.Summary,
			string(details)).Scan(&e.Seq)
		if err != nil {
			return fmt.Errorf("append audit: %w", err)
		}
		return nil
	})
}

// FindAudit implements backend.AuditService.
func (db *DB) FindAudit(ctx context.Context, f backend.AuditFilter) ([]*backend.AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	out, err := collect(ctx, db.pool, func(s scanner) (*backend.AuditEntry, error) {
		var e backend.AuditEntry
		var details string
		err := s.Scan(&e.Seq, at{&e.At}, &e.UserID, &e.UserName, &e.Action, &e.EntityType, &e.EntityID, &e.Summary, &details)
		e.Details = json.RawMessage(details)
		return &e, err
	}, `SELECT seq, at, user_id, user_name, action, entity_type, entity_id, summary, details::text FROM audit_log
		WHERE ($1 = 0 OR seq < $1) AND ($2 = '' OR entity_type = $2) ORDER BY seq DESC LIMIT $3`, f.Before, f.EntityType, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("find audit: %w", err)
	}
	return nonNil(out), nil
}

// nonNil returns an empty list for none, as the store's lists are.
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
