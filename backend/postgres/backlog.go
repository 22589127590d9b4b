package postgres

import (
	"context"
	"fmt"
	"time"

	"switchboard/backend"
)

// backlogQuery counts pending work through the partial indexes of open
// outbox jobs and open tasks, so a scrape costs the same with any history.
const backlogQuery = `SELECT
	(SELECT count(*) FROM channel_outbox WHERE state = 'pending' AND next_attempt_at <= $1)
		+ (SELECT count(*) FROM channel_outbox WHERE state = 'sending' AND lease_until <= $1),
	LEAST((SELECT min(next_attempt_at) FROM channel_outbox WHERE state = 'pending' AND next_attempt_at <= $1),
		(SELECT min(lease_until) FROM channel_outbox WHERE state = 'sending' AND lease_until <= $1)),
	(SELECT count(*) FROM routing_tasks WHERE state = 'pending'),
	(SELECT min(created_at) FROM routing_tasks WHERE state = 'pending'),
	(SELECT COALESCE(max(seq), 0) FROM events)`

// Backlog implements backend.BacklogReader.
func (db *DB) Backlog(ctx context.Context, now time.Time) (backend.Backlog, error) {
	var b backend.Backlog
	err := db.pool.QueryRow(ctx, backlogQuery, now).Scan(&b.OutboxDue, at{&b.OutboxOldestDue}, &b.TasksWaiting, at{&b.TasksOldest}, &b.LastSeq)
	if err != nil {
		return backend.Backlog{}, fmt.Errorf("backlog: %w", err)
	}
	return b, nil
}
