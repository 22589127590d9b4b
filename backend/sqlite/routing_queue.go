package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard/backend"
)

// Queues and workflows keep their definition as JSON in a data column;
// they are read whole and few.

func saveQueue(ctx context.Context, tx *Tx, q *backend.Queue) error {
	data, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("encode queue: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO routing_queues (id, name, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data, updated_at = excluded.updated_at`,
		q.ID, q.Name, string(data), formatTime(q.CreatedAt), formatTime(q.UpdatedAt))
	if err != nil {
		return routingErr("save queue", err, fmt.Sprintf("A queue named %s already exists.", q.Name))
	}
	return tx.AppendEvent(ctx, backend.EventQueueUpserted, q.ID, q)
}

func findQueues(ctx context.Context, q queryer) ([]*backend.Queue, error) {
	return findJSON[backend.Queue](ctx, q, `SELECT data FROM routing_queues ORDER BY id`)
}

func saveWorkflow(ctx context.Context, tx *Tx, wf *backend.Workflow) error {
	data, err := json.Marshal(wf)
	if err != nil {
		return fmt.Errorf("encode workflow: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO routing_workflows (id, name, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data, updated_at = excluded.updated_at`,
		wf.ID, wf.Name, string(data), formatTime(wf.CreatedAt), formatTime(wf.UpdatedAt)); err != nil {
		return fmt.Errorf("save workflow: %w", err)
	}
	return tx.AppendEvent(ctx, backend.EventWorkflowUpserted, wf.ID, wf)
}

func findWorkflows(ctx context.Context, q queryer) ([]*backend.Workflow, error) {
	return findJSON[backend.Workflow](ctx, q, `SELECT data FROM routing_workflows ORDER BY id`)
}

func findJSON[T any](ctx context.Context, q queryer, query string) ([]*T, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		v := new(T)
		if err := json.Unmarshal([]byte(data), v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
