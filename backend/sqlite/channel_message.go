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

// ThreadMessagesIn implements storetx.MessageTx: the one writer keeps
// others out.
func (s steps) ThreadMessagesIn(ctx context.Context, channel, instance, threadKey string, before time.Time, statuses []string) ([]*backend.Message, error) {
	args := []any{channel, instance, threadKey, formatTime(before)}
	for _, st := range statuses {
		args = append(args, st)
	}
	rows, err := s.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE direction = 'out' AND private = 0
		AND conversation_id IN (SELECT id FROM conversations WHERE channel = ? AND instance = ? AND thread_key = ?)
		AND created_at <= ? AND status IN (?`+strings.Repeat(", ?", len(statuses)-1)+`) ORDER BY rowid`, args...)
	if err != nil {
		return nil, fmt.Errorf("thread delivery status: %w", err)
	}
	defer rows.Close()
	var out []*backend.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
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
