package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

var _ backend.ReportService = (*DB)(nil)

// seconds is the SQL for the time from column a to column b in seconds,
// to the millisecond (julianday's doubles would blur milliseconds).
func seconds(a, b string) string {
	return "(unixepoch(" + b + ", 'subsec') - unixepoch(" + a + ", 'subsec'))"
}

// figureColumns computes backend.Figures over the tasks t of one group,
// from the columns of the report index (see migration 0700); sla is the
// SQL for the task's SLA threshold in ms. A task answered within it counts
// towards WithinSLA; the SLA share is over answered and abandoned tasks.
func figureColumns(sla string) string {
	return `COUNT(*),
	COUNT(t.wait_ms),
	SUM(t.state = 'canceled' AND t.wait_ms IS NULL),
	SUM(t.state = 'completed'),
	COALESCE(AVG(t.wait_ms) / 1000.0, 0),
	COALESCE(AVG(t.handle_ms) / 1000.0, 0),
	COALESCE(AVG(` + seconds("t.created_at", `(SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = t.conversation_id
		AND m.direction = 'out' AND m.private = 0 AND m.author_id <> '' AND m.created_at >= t.created_at)`) + `), 0),
	COALESCE(SUM(t.wait_ms <= ` + sla + `), 0)`
}

// slaCase returns SQL (with its arguments) for a task's SLA threshold in
// ms: a CASE over the queues, read first, so a report joins nothing per
// task.
func (db *DB) slaCase(ctx context.Context) (string, []any, error) {
	qs, err := findQueues(ctx, db.r)
	if err != nil {
		return "", nil, fmt.Errorf("report queues: %w", err)
	}
	if len(qs) == 0 {
		return fmt.Sprint(backend.DefaultSLA.Milliseconds()), nil, nil
	}
	var b strings.Builder
	var args []any
	b.WriteString("CASE t.queue_id")
	for _, q := range qs {
		b.WriteString(" WHEN ? THEN ?")
		args = append(args, q.ID, q.SLA().Milliseconds())
	}
	fmt.Fprintf(&b, " ELSE %d END", backend.DefaultSLA.Milliseconds())
	return b.String(), args, nil
}

// Report implements backend.ReportService. Periods are cut in Go (so days
// follow the time zone's daylight-saving changes) and each is one range
// of the creation-time index.
func (db *DB) Report(ctx context.Context, q backend.ReportQuery) ([]backend.ReportRow, error) {
	group, err := storekit.ReportColumn(q.By)
	if err != nil {
		return nil, err
	}
	if group == "" {
		group = "''"
	} else {
		group = "t." + group
	}
	periods, err := storekit.ReportPeriods(q)
	if err != nil {
		return nil, err
	}
	sla, slaArgs, err := db.slaCase(ctx)
	if err != nil {
		return nil, err
	}
	var values []string
	var args []any
	for _, p := range periods {
		values = append(values, "(?, ?, ?)")
		args = append(args, p.Label, formatTime(p.Lo), formatTime(p.Hi))
	}
	rows, err := db.r.QueryContext(ctx, `WITH periods (label, lo, hi) AS (VALUES `+strings.Join(values, ", ")+`)
		SELECT p.label, `+group+` AS grp, `+figureColumns(sla)+`
		FROM periods p JOIN routing_tasks t ON t.created_at >= p.lo AND t.created_at < p.hi
		GROUP BY p.label, grp ORDER BY p.label, grp`, append(args, slaArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer rows.Close()
	out := []backend.ReportRow{}
	for rows.Next() {
		var r backend.ReportRow
		if err := rows.Scan(storekit.ScanFigures([]any{&r.Period, &r.Group}, &r.Figures)...); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		storekit.FinishFigures(&r.Figures)
		out = append(out, r)
	}
	return out, rows.Err()
}

// QueueFigures implements backend.ReportService.
func (db *DB) QueueFigures(ctx context.Context, from, to time.Time) (map[string]backend.Figures, error) {
	sla, args, err := db.slaCase(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT t.queue_id, `+figureColumns(sla)+`
		FROM routing_tasks t WHERE t.created_at >= ? AND t.created_at < ? GROUP BY t.queue_id`, append(args, formatTime(from), formatTime(to))...)
	if err != nil {
		return nil, fmt.Errorf("queue figures: %w", err)
	}
	defer rows.Close()
	out := map[string]backend.Figures{}
	for rows.Next() {
		var id string
		var f backend.Figures
		if err := rows.Scan(storekit.ScanFigures([]any{&id}, &f)...); err != nil {
			return nil, fmt.Errorf("queue figures: %w", err)
		}
		storekit.FinishFigures(&f)
		out[id] = f
	}
	return out, rows.Err()
}

// AgentFigures implements backend.ReportService.
func (db *DB) AgentFigures(ctx context.Context, from, to time.Time) (map[string]backend.AgentDay, error) {
	out := map[string]backend.AgentDay{}
	lo, hi := formatTime(from), formatTime(to)
	rows, err := db.r.QueryContext(ctx, `SELECT worker_id, COUNT(*), COALESCE(AVG(handle_ms) / 1000.0, 0)
		FROM routing_tasks WHERE state = 'completed' AND ended_at >= ? AND ended_at < ? GROUP BY worker_id`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("agent figures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var d backend.AgentDay
		if err := rows.Scan(&id, &d.Handled, &d.AvgHandleSeconds); err != nil {
			return nil, fmt.Errorf("agent figures: %w", err)
		}
		out[id] = d
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = db.r.QueryContext(ctx, `SELECT worker_id, SUM(state = 'rejected'), SUM(state = 'timeout')
		FROM routing_reservations WHERE state IN ('rejected', 'timeout') AND updated_at >= ? AND updated_at < ? GROUP BY worker_id`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("agent offers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var rej, to int64
		if err := rows.Scan(&id, &rej, &to); err != nil {
			return nil, fmt.Errorf("agent offers: %w", err)
		}
		d := out[id]
		d.Rejected, d.TimedOut = rej, to
		out[id] = d
	}
	return out, rows.Err()
}
