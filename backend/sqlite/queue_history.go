package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// QueueHistory implements backend.ReportService. It reads the tasks that
// waited for an answer at some point of [at[0], at[last]] (through the
// index on when they stopped waiting, plus the open ones) and the tasks
// created since the first sample's midnight; storekit counts them.
func (db *DB) QueueHistory(ctx context.Context, at []time.Time, loc *time.Location) (map[string][]backend.QueueSample, error) {
	qs, err := findQueues(ctx, db.r)
	if err != nil {
		return nil, fmt.Errorf("queue history: %w", err)
	}
	return storekit.QueueHistory(ctx, qs, at, loc, db.historyTasks)
}

// historyTasks implements storekit.HistoryReader.
func (db *DB) historyTasks(ctx context.Context, day, from, last time.Time) ([]storekit.HistoryTask, error) {
	// The ID keeps UNION from folding two tasks that look alike.
	cols := `SELECT id, queue_id, created_at, answered_at, ended_at, state, wait_ms FROM routing_tasks`
	lo, f, hi := formatTime(day), formatTime(from), formatTime(last)
	// Each part names its index: the planner would otherwise read the
	// open tasks through the creation index, all of the past.
	rows, err := db.r.QueryContext(ctx, cols+` INDEXED BY routing_tasks_report WHERE created_at >= ? AND created_at <= ?
		UNION `+cols+` INDEXED BY routing_tasks_open WHERE state NOT IN ('completed', 'canceled') AND created_at < ?
		UNION `+cols+` INDEXED BY routing_tasks_unanswered_until WHERE iif(answered_at <> '', answered_at, ended_at) >= ? AND created_at < ?`,
		lo, hi, lo, f, lo)
	if err != nil {
		return nil, fmt.Errorf("queue history: %w", err)
	}
	defer rows.Close()
	var out []storekit.HistoryTask
	for rows.Next() {
		var tk storekit.HistoryTask
		var id, created, answered, ended, state string
		var wait sql.NullInt64
		if err := rows.Scan(&id, &tk.Queue, &created, &answered, &ended, &state, &wait); err != nil {
			return nil, fmt.Errorf("queue history: %w", err)
		}
		tk.Created, tk.Answered, tk.Ended = parseTime(created), parseTime(answered), parseTime(ended)
		tk.Canceled = state == backend.TaskCanceled
		if wait.Valid {
			tk.WaitMillis = &wait.Int64
		}
		out = append(out, tk)
	}
	return out, rows.Err()
}
