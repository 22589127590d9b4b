package postgres

import (
	"context"
	"fmt"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// QueueHistory implements backend.ReportService. It reads the tasks that
// waited for an answer at some point of [at[0], at[last]] (through the
// index on when they stopped waiting, see migration 0006, plus the open
// ones) and the tasks created since the first sample's midnight;
// storekit counts them.
func (db *DB) QueueHistory(ctx context.Context, at []time.Time, loc *time.Location) (map[string][]backend.QueueSample, error) {
	qs, err := collect(ctx, db.pool, jsonOf[backend.Queue], `SELECT data FROM routing_queues ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("queue history: %w", err)
	}
	return storekit.QueueHistory(ctx, qs, at, loc, db.historyTasks)
}

// historyTasks implements storekit.HistoryReader.
func (db *DB) historyTasks(ctx context.Context, day, from, last time.Time) ([]storekit.HistoryTask, error) {
	// The ID keeps UNION from folding two tasks that look alike.
	const cols = `SELECT id, queue_id, created_at, answered_at, ended_at, state, wait_ms FROM routing_tasks`
	out, err := collect(ctx, db.pool, func(s scanner) (storekit.HistoryTask, error) {
		var tk storekit.HistoryTask
		var id, state string
		err := s.Scan(&id, &tk.Queue, at{&tk.Created}, at{&tk.Answered}, at{&tk.Ended}, &state, &tk.WaitMillis)
		tk.Canceled = state == backend.TaskCanceled
		return tk, err
	}, cols+` WHERE created_at >= $1 AND created_at <= $2
		UNION `+cols+` WHERE state NOT IN ('completed', 'canceled') AND created_at < $1
		UNION `+cols+` WHERE COALESCE(answered_at, ended_at) >= $3 AND created_at < $1`, day, last, from)
	if err != nil {
		return nil, fmt.Errorf("queue history: %w", err)
	}
	return out, nil
}
