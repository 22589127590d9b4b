package sqlite

import (
	"context"
	"fmt"
	"time"

	"switchboard/backend"
)

// ChannelActivity returns the traffic of one channel instance: its newest
// inbound message and sent reply, and its failing replies. Each lookup reads
// an index, so its cost does not grow with history.
func (db *DB) ChannelActivity(ctx context.Context, connector, instance string, now time.Time) (*backend.ChannelActivity, error) {
	var a backend.ChannelActivity
	var lastIn, lastSent, lastFailAt string
	err := db.r.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT MAX(created_at) FROM messages WHERE channel = ?1 AND instance = ?2 AND direction = 'in'), ''),
		COALESCE((SELECT MAX(updated_at) FROM channel_outbox WHERE connector = ?1 AND instance = ?2 AND state = 'sent'), ''),
		(SELECT COUNT(*) FROM channel_outbox WHERE connector = ?1 AND instance = ?2 AND state = 'failed' AND updated_at >= ?3),
		(SELECT COUNT(*) FROM channel_outbox WHERE connector = ?1 AND instance = ?2 AND state IN ('pending', 'sending') AND attempts > 0),
		COALESCE((SELECT last_error FROM channel_outbox WHERE connector = ?1 AND instance = ?2 AND last_error <> ''
			AND (state = 'failed' OR state IN ('pending', 'sending')) ORDER BY updated_at DESC LIMIT 1), ''),
		COALESCE((SELECT MAX(updated_at) FROM channel_outbox WHERE connector = ?1 AND instance = ?2 AND last_error <> ''
			AND (state = 'failed' OR state IN ('pending', 'sending'))), '')`,
		connector, instance, formatTime(now.Add(-24*time.Hour))).
		Scan(&lastIn, &lastSent, &a.FailedReplies, &a.RetryingReplies, &a.LastFailure, &lastFailAt)
	if err != nil {
		return nil, fmt.Errorf("channel activity: %w", err)
	}
	a.LastInboundAt, a.LastSentAt, a.LastFailureAt = parseTime(lastIn), parseTime(lastSent), parseTime(lastFailAt)
	return &a, nil
}
