package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard/backend"
)

var _ backend.AuditService = (*DB)(nil)

// AppendAudit implements backend.AuditService.
func (db *DB) AppendAudit(ctx context.Context, e *backend.AuditEntry) error {
	details := string(e.Details)
	if details == "" || !json.Valid(e.Details) {
		details = "{}"
	}
	return db.update(ctx, func(tx *Tx) error {
		e.At = tx.Now()
		res, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, user_id, user_name, action, entity_type, entity_id, summary, details)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, formatTime(e.At), e.UserID, e.UserName, e.Action, e.EntityType, e.EntityID, e.Summary, details)
		if err != nil {
			return fmt.Errorf("append audit: %w", err)
		}
		e.Seq, err = res.LastInsertId()
		return err
	})
}

// FindAudit implements backend.AuditService.
func (db *DB) FindAudit(ctx context.Context, f backend.AuditFilter) ([]*backend.AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := `SELECT seq, at, user_id, user_name, action, entity_type, entity_id, summary, details FROM audit_log WHERE 1 = 1`
	var args []any
	if f.Before > 0 {
		q, args = q+` AND seq < ?`, append(args, f.Before)
	}
	if f.EntityType != "" {
		q, args = q+` AND entity_type = ?`, append(args, f.EntityType)
	}
	rows, err := db.r.QueryContext(ctx, q+` ORDER BY seq DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("find audit: %w", err)
	}
	defer rows.Close()
	out := []*backend.AuditEntry{}
	for rows.Next() {
		var e backend.AuditEntry
		var at, details string
		if err := rows.Scan(&e.Seq, &at, &e.UserID, &e.UserName, &e.Action, &e.EntityType, &e.EntityID, &e.Summary, &details); err != nil {
			return nil, err
		}
		e.At, e.Details = parseTime(at), json.RawMessage(details)
		out = append(out, &e)
	}
	return out, rows.Err()
}
