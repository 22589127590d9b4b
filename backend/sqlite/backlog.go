package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Backlog is the work the store holds that a stage has not done yet.
type Backlog struct {
	// OutboxDue counts outbound jobs whose attempt is due (or whose
	// sender's lease ran out); OutboxOldestDue is when the oldest of them
	// became due (zero with none).
	OutboxDue       int
	OutboxOldestDue time.Time
	// TasksWaiting counts routing tasks no worker holds yet;
	// TasksOldest is when the oldest of them was created.
	TasksWaiting int
	TasksOldest  time.Time
	// LastSeq is the change feed's newest sequence.
	LastSeq int64
}

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

// Backlog returns the pending work at now.
func (db *DB) Backlog(ctx context.Context, now time.Time) (Backlog, error) {
	var b Backlog
	var oldestDue, oldestTask sql.NullString
	err := db.r.QueryRowContext(ctx, backlogQuery, formatTime(now)).Scan(&b.OutboxDue, &oldestDue, &b.TasksWaiting, &oldestTask, &b.LastSeq)
	if err != nil {
		return Backlog{}, fmt.Errorf("backlog: %w", err)
	}
	if oldestDue.Valid {
		b.OutboxOldestDue = parseTime(oldestDue.String)
	}
	if oldestTask.Valid {
		b.TasksOldest = parseTime(oldestTask.String)
	}
	return b, nil
}
