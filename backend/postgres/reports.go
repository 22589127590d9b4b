package postgres

import (
	"context"
	"fmt"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

var _ backend.ReportService = (*DB)(nil)

// figureColumns computes backend.Figures over the tasks t of one group,
// from the columns of the report index (see migration 0004); s.sla_ms is
// the task's queue's SLA threshold (NULL: the default's). A task answered
// within it counts towards WithinSLA; the SLA share is over answered and
// abandoned tasks.
const figureColumns = `COUNT(*),
	COUNT(t.wait_ms),
	COUNT(*) FILTER (WHERE t.state = 'canceled' AND t.wait_ms IS NULL),
	COUNT(*) FILTER (WHERE t.state = 'completed'),
	COALESCE(AVG(t.wait_ms) / 1000.0, 0)::float8,
	COALESCE(AVG(t.handle_ms) / 1000.0, 0)::float8,
	COALESCE(AVG(extract(epoch FROM (SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = t.conversation_id
		AND m.direction = 'out' AND NOT m.private AND m.author_id <> '' AND m.created_at >= t.created_at) - t.created_at)), 0)::float8,
	COUNT(*) FILTER (WHERE t.wait_ms <= COALESCE(s.sla_ms, $1))`

// slaJoin joins each task to its queue's SLA threshold, handed over as two
// arrays ($2 ids, $3 ms) read first, so a report reads no queue rows per
// task.
const slaJoin = `LEFT JOIN unnest($2::text[], $3::bigint[]) AS s (queue_id, sla_ms) ON s.queue_id = t.queue_id`

// slaArgs returns the arguments of figureColumns and slaJoin.
func (db *DB) slaArgs(ctx context.Context) ([]any, error) {
	qs, err := collect(ctx, db.pool, jsonOf[backend.Queue], `SELECT data FROM routing_queues`)
	if err != nil {
		return nil, fmt.Errorf("report queues: %w", err)
	}
	ids, ms := storekit.QueueSLAs(qs)
	return []any{backend.DefaultSLA.Milliseconds(), ids, ms}, nil
}

// Report implements backend.ReportService. Each period is one range of
// the creation-time index.
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
	args, err := db.slaArgs(ctx)
	if err != nil {
		return nil, err
	}
	labels, lo, hi := make([]string, len(periods)), make([]time.Time, len(periods)), make([]time.Time, len(periods))
	for i, p := range periods {
		labels[i], lo[i], hi[i] = p.Label, p.Lo, p.Hi
	}
	out, err := collect(ctx, db.pool, func(s scanner) (backend.ReportRow, error) {
		var r backend.ReportRow
		err := s.Scan(storekit.ScanFigures([]any{&r.Period, &r.Group}, &r.Figures)...)
		storekit.FinishFigures(&r.Figures)
		return r, err
	}, `SELECT p.label, `+group+` AS grp, `+figureColumns+`
		FROM unnest($4::text[], $5::timestamptz[], $6::timestamptz[]) AS p (label, lo, hi)
		JOIN routing_tasks t ON t.created_at >= p.lo AND t.created_at < p.hi `+slaJoin+`
		GROUP BY p.label, grp ORDER BY p.label, grp`, append(args, labels, lo, hi)...)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if out == nil {
		out = []backend.ReportRow{}
	}
	return out, nil
}

// QueueFigures implements backend.ReportService.
func (db *DB) QueueFigures(ctx context.Context, from, to time.Time) (map[string]backend.Figures, error) {
	args, err := db.slaArgs(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]backend.Figures{}
	_, err = collect(ctx, db.pool, func(s scanner) (struct{}, error) {
		var id string
		var f backend.Figures
		if err := s.Scan(storekit.ScanFigures([]any{&id}, &f)...); err != nil {
			return struct{}{}, err
		}
		storekit.FinishFigures(&f)
		out[id] = f
		return struct{}{}, nil
	}, `SELECT t.queue_id, `+figureColumns+` FROM routing_tasks t `+slaJoin+`
		WHERE t.created_at >= $4 AND t.created_at < $5 GROUP BY t.queue_id`, append(args, from, to)...)
	if err != nil {
		return nil, fmt.Errorf("queue figures: %w", err)
	}
	return out, nil
}

// AgentFigures implements backend.ReportService.
func (db *DB) AgentFigures(ctx context.Context, from, to time.Time) (map[string]backend.AgentDay, error) {
	out := map[string]backend.AgentDay{}
	_, err := collect(ctx, db.pool, func(s scanner) (struct{}, error) {
		var id string
		var d backend.AgentDay
		err := s.Scan(&id, &d.Handled, &d.AvgHandleSeconds)
		out[id] = d
		return struct{}{}, err
	}, `SELECT worker_id, COUNT(*), COALESCE(AVG(handle_ms) / 1000.0, 0)::float8
		FROM routing_tasks WHERE state = 'completed' AND ended_at >= $1 AND ended_at < $2 GROUP BY worker_id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("agent figures: %w", err)
	}
	_, err = collect(ctx, db.pool, func(s scanner) (struct{}, error) {
		var id string
		var rej, timeout int64
		if err := s.Scan(&id, &rej, &timeout); err != nil {
			return struct{}{}, err
		}
		d := out[id]
		d.Rejected, d.TimedOut = rej, timeout
		out[id] = d
		return struct{}{}, nil
	}, `SELECT worker_id, COUNT(*) FILTER (WHERE state = 'rejected'), COUNT(*) FILTER (WHERE state = 'timeout')
		FROM routing_reservations WHERE state IN ('rejected', 'timeout') AND updated_at >= $1 AND updated_at < $2 GROUP BY worker_id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("agent offers: %w", err)
	}
	return out, nil
}
