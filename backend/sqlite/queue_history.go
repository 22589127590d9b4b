package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"switchboard/backend"
)

// historyTask is what the chart of the past needs of one task.
type historyTask struct {
	queue                    string
	created, answered, ended time.Time
	canceled                 bool
	waitMillis               sql.NullInt64
}

// QueueHistory implements backend.ReportService. It reads the tasks that
// waited for an answer at some point of [at[0], at[last]] (through the
// index on when they stopped waiting, plus the open ones) and the tasks
// created since the first sample's midnight, then counts in Go.
func (db *DB) QueueHistory(ctx context.Context, at []time.Time, loc *time.Location) (map[string][]backend.QueueSample, error) {
	if !slices.IsSortedFunc(at, func(a, b time.Time) int { return a.Compare(b) }) {
		return nil, backend.Errorf(backend.EInvalid, "The chart's sample times must be in order.")
	}
	if loc == nil {
		loc = time.UTC
	}
	qs, err := findQueues(ctx, db.r)
	if err != nil {
		return nil, fmt.Errorf("queue history: %w", err)
	}
	out := make(map[string][]backend.QueueSample, len(qs))
	sla := make(map[string]time.Duration, len(qs))
	for _, q := range qs {
		out[q.ID] = make([]backend.QueueSample, len(at))
		sla[q.ID] = q.SLA()
		for i, t := range at {
			out[q.ID][i].At = t
		}
	}
	if len(at) == 0 || len(qs) == 0 {
		return out, nil
	}
	first, last := at[0], at[len(at)-1]
	day := midnight(first, loc)
	tasks, err := db.historyTasks(ctx, day, first, last)
	if err != nil {
		return nil, err
	}
	for _, tk := range tasks {
		samples, ok := out[tk.queue]
		if !ok {
			continue // a deleted queue
		}
		for i, t := range at {
			if !tk.created.After(t) && (waitedUntil(tk).IsZero() || waitedUntil(tk).After(t)) {
				samples[i].Unanswered++
			}
		}
	}
	for id, samples := range out {
		for i := range samples {
			samples[i].SLAPercent = slaAt(tasks, id, sla[id], samples[i].At, loc)
		}
	}
	return out, nil
}

// waitedUntil is when a task stopped waiting for an answer: its first
// accept, or its end when nobody accepted it; zero while it still waits.
func waitedUntil(tk historyTask) time.Time {
	if !tk.answered.IsZero() {
		return tk.answered
	}
	return tk.ended
}

// slaAt is a queue's SLA share at t over the tasks created since t's
// midnight, counted as finishFigures does with what had happened by t.
func slaAt(tasks []historyTask, queue string, sla time.Duration, t time.Time, loc *time.Location) *float64 {
	day := midnight(t, loc)
	var within, left int
	for _, tk := range tasks {
		if tk.queue != queue || tk.created.Before(day) || tk.created.After(t) {
			continue
		}
		switch {
		case !tk.answered.IsZero() && !tk.answered.After(t):
			left++
			if tk.waitMillis.Valid && tk.waitMillis.Int64 <= sla.Milliseconds() {
				within++
			}
		case tk.answered.IsZero() && tk.canceled && !tk.ended.After(t):
			left++
		}
	}
	if left == 0 {
		return nil
	}
	p := 100 * float64(within) / float64(left)
	return &p
}

func midnight(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// historyTasks returns the tasks created in [day, last] and those created
// before that which were still waiting at from (open ones, or ones that
// stopped waiting at from or later).
func (db *DB) historyTasks(ctx context.Context, day, from, last time.Time) ([]historyTask, error) {
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
	var out []historyTask
	for rows.Next() {
		var tk historyTask
		var id, created, answered, ended, state string
		if err := rows.Scan(&id, &tk.queue, &created, &answered, &ended, &state, &tk.waitMillis); err != nil {
			return nil, fmt.Errorf("queue history: %w", err)
		}
		tk.created, tk.answered, tk.ended = parseTime(created), parseTime(answered), parseTime(ended)
		tk.canceled = state == backend.TaskCanceled
		out = append(out, tk)
	}
	return out, rows.Err()
}
