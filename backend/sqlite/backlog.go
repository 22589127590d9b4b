package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"switchboard/backend"
)

// backlogQuery counts pending work through the partial indexes of open
// outbox jobs and open tasks, so a scrape costs the same with any history.
const backlogQuery = `SELECT
	(SELECT COUNT(*) FROM channel_outbox WHERE state = 'pending' AND next_attempt_at <= ?1)
		+ (SELECT COUNT(*) FROM channel_outbox WHERE state = 'sending' AND lease_until <= ?1),
	(SELECT MIN(t) FROM (SELECT MIN(next_attempt_at) AS t FROM channel_outbox WHERE state = 'pending' AND next_attempt_at <= ?1
		UNION ALL SELECT MIN(lease_until) FROM channel_outbox WHERE state = 'sending' AND lease_until <= ?1)),
	(SELECT COUNT(*) FROM routing_tasks WHERE state = 'pending'),
	(SELECT MIN(created_at) FROM routing_tasks WHERE state = 'pending'),
	(SELECT COALESCE(MAX(seq), 0) FROM events)`

// Backlog implements backend.BacklogReader.
func (db *DB) Backlog(ctx context.Context, now time.Time) (backend.Backlog, error) {
	var b backend.Backlog
	var oldestDue, oldestTask sql.NullString
	err := db.r.QueryRowContext(ctx, backlogQuery, formatTime(now)).Scan(&b.OutboxDue, &oldestDue, &b.TasksWaiting, &oldestTask, &b.LastSeq)
	if err != nil {
		return backend.Backlog{}, fmt.Errorf("backlog: %w", err)
	}
	if oldestDue.Valid {
		b.OutboxOldestDue = parseTime(oldestDue.String)
	}
	if oldestTask.Valid {
		b.TasksOldest = parseTime(oldestTask.String)
	}
	return b, nil
}
