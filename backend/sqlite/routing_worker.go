package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard/backend"
)

func saveActivity(ctx context.Context, tx *Tx, a *backend.Activity) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO routing_activities (name, available, created_at, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET available = excluded.available, updated_at = excluded.updated_at`,
		a.Name, a.Available, formatTime(a.CreatedAt), formatTime(a.UpdatedAt)); err != nil {
		return fmt.Errorf("save activity: %w", err)
	}
	return tx.AppendEvent(ctx, backend.EventActivityUpserted, a.Name, a)
}

func findActivities(ctx context.Context, q queryer) ([]*backend.Activity, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, available, created_at, updated_at FROM routing_activities ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*backend.Activity
	for rows.Next() {
		var a backend.Activity
		var created, updated string
		if err := rows.Scan(&a.Name, &a.Available, &created, &updated); err != nil {
			return nil, err
		}
		a.CreatedAt, a.UpdatedAt = parseTime(created), parseTime(updated)
		out = append(out, &a)
	}
	return out, rows.Err()
}

func saveWorker(ctx context.Context, tx *Tx, w *backend.Worker) error {
	attrs, err := json.Marshal(w.Attributes)
	if err != nil {
		return fmt.Errorf("encode worker attributes: %w", err)
	}
	capacity, err := json.Marshal(w.Capacity)
	if err != nil {
		return fmt.Errorf("encode worker capacity: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO routing_workers (id, user_id, name, attributes, activity, capacity, idle_since,
		activity_changed_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, name = excluded.name, attributes = excluded.attributes,
		activity = excluded.activity, capacity = excluded.capacity, idle_since = excluded.idle_since,
		activity_changed_at = excluded.activity_changed_at, updated_at = excluded.updated_at`,
		w.ID, w.UserID, w.Name, string(attrs), w.Activity, string(capacity), formatTime(w.IdleSince),
		formatTime(w.ActivityChangedAt), formatTime(w.CreatedAt), formatTime(w.UpdatedAt))
	if err != nil {
		return routingErr("save worker", err, fmt.Sprintf("User %s already has a worker.", w.UserID))
	}
	return tx.AppendEvent(ctx, backend.EventWorkerUpserted, w.ID, w)
}

func findWorkers(ctx context.Context, q queryer) ([]*backend.Worker, error) {
	rows, err := q.QueryContext(ctx, `SELECT w.id, w.user_id, w.name, w.attributes, w.activity, COALESCE(a.available, 0), w.capacity,
		w.idle_since, w.activity_changed_at, w.created_at, w.updated_at
		FROM routing_workers w LEFT JOIN routing_activities a ON a.name = w.activity WHERE w.deleted_at = '' ORDER BY w.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*backend.Worker
	for rows.Next() {
		var w backend.Worker
		var attrs, capacity, idle, changed, created, updated string
		if err := rows.Scan(&w.ID, &w.UserID, &w.Name, &attrs, &w.Activity, &w.Available, &capacity,
			&idle, &changed, &created, &updated); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(attrs), &w.Attributes); err != nil {
			return nil, fmt.Errorf("worker %s attributes: %w", w.ID, err)
		}
		if err := json.Unmarshal([]byte(capacity), &w.Capacity); err != nil {
			return nil, fmt.Errorf("worker %s capacity: %w", w.ID, err)
		}
		w.IdleSince, w.ActivityChangedAt = parseTime(idle), parseTime(changed)
		w.CreatedAt, w.UpdatedAt = parseTime(created), parseTime(updated)
		out = append(out, &w)
	}
	return out, rows.Err()
}
