package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"switchboard/backend"
)

// FindMessageByExternalID implements backend.ChannelService.
func (db *DB) FindMessageByExternalID(ctx context.Context, channel, instance, externalID string) (*backend.Message, error) {
	if externalID == "" {
		return nil, backend.Errorf(backend.ENotFound, "The message does not exist.")
	}
	return findMessage(ctx, db.r, `channel = ? AND instance = ? AND external_id = ?`, channel, instance, externalID)
}

// SetThreadDeliveryStatus implements backend.ChannelService.
func (db *DB) SetThreadDeliveryStatus(ctx context.Context, channel, instance, threadKey, status string, before time.Time) ([]*backend.Message, error) {
	rank := backend.DeliveryRank(status)
	if rank == 0 {
		return nil, backend.Errorf(backend.EInvalid, "%q is not a delivery status.", status)
	}
	var lower []any
	for _, s := range []string{backend.DeliveryQueued, backend.DeliverySent, backend.DeliveryDelivered, backend.DeliveryRead} {
		if backend.DeliveryRank(s) < rank {
			lower = append(lower, s)
		}
	}
	if len(lower) == 0 {
		return nil, nil
	}
	var changed []*backend.Message
	err := db.update(ctx, func(tx *Tx) error {
		args := append([]any{channel, instance, threadKey, formatTime(before)}, lower...)
		rows, err := tx.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE direction = 'out' AND private = 0
			AND conversation_id IN (SELECT id FROM conversations WHERE channel = ? AND instance = ? AND thread_key = ?)
			AND created_at <= ? AND status IN (?`+strings.Repeat(", ?", len(lower)-1)+`) ORDER BY rowid`, args...)
		if err != nil {
			return fmt.Errorf("thread delivery status: %w", err)
		}
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				rows.Close()
				return err
			}
			changed = append(changed, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, m := range changed {
			if err := setStatus(ctx, tx, m, status, ""); err != nil {
				return err
			}
		}
		return nil
	})
	return changed, err
}

// setStatus writes a forward move of m's delivery state and its event.
func setStatus(ctx context.Context, tx *Tx, m *backend.Message, status, reason string) error {
	if backend.DeliveryRank(status) <= backend.DeliveryRank(m.Status) {
		return nil
	}
	m.Status, m.Error, m.UpdatedAt = status, reason, tx.Now()
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET status = ?, error = ?, updated_at = ? WHERE id = ?`,
		m.Status, m.Error, formatTime(m.UpdatedAt), m.ID); err != nil {
		return fmt.Errorf("set delivery status: %w", err)
	}
	return tx.AppendEvent(ctx, backend.EventMessageUpserted, m.ID, m)
}

// inboundAfterQuery reads inbound messages after the cursor through the
// partial index that holds only inbound rows.
const inboundAfterQuery = `SELECT rowid, ` + messageColumns + ` FROM messages AS m WHERE direction = 'in' AND rowid > ?
	AND EXISTS (SELECT 1 FROM channel_instances ci WHERE ci.connector = m.channel AND ci.instance = m.instance)
	ORDER BY rowid LIMIT ?`

// InboundAfter implements backend.ChannelService.
func (db *DB) InboundAfter(ctx context.Context, cursor int64, limit int) ([]*backend.Message, []int64, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := db.r.QueryContext(ctx, inboundAfterQuery, cursor, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("inbound after %d: %w", cursor, err)
	}
	defer rows.Close()
	var msgs []*backend.Message
	var seqs []int64
	for rows.Next() {
		var seq int64
		m, err := scanMessage(prefixScanner{rows, &seq})
		if err != nil {
			return nil, nil, err
		}
		msgs, seqs = append(msgs, m), append(seqs, seq)
	}
	return msgs, seqs, rows.Err()
}

// prefixScanner scans one leading column into first, then the rest as usual.
type prefixScanner struct {
	s     interface{ Scan(...any) error }
	first any
}

func (p prefixScanner) Scan(dest ...any) error { return p.s.Scan(append([]any{p.first}, dest...)...) }
