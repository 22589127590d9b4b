package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

const taskColumns = `id, channel, attributes, priority, conversation_id, state, workflow_id, filter, filter_index, target_index,
	queue_id, target_expires, worker_id, rejected_by, reason, disposition, created_at, assigned_at, ended_at, updated_at,
	retry_at, wrap_up_at, wrap_up_ends`

func saveTask(ctx context.Context, tx *Tx, t *backend.Task) error {
	attrs, err := json.Marshal(t.Attributes)
	if err != nil {
		return fmt.Errorf("encode task attributes: %w", err)
	}
	rejected := t.RejectedBy
	if rejected == nil {
		rejected = []string{}
	}
	rj, _ := json.Marshal(rejected)
	// For reports: answered_at and wait_ms keep the first accept (?18 and
	// ?24 only while the task has none); handle_ms is the completed task's
	// time from its last accept to its end.
	_, err = tx.ExecContext(ctx, `INSERT INTO routing_tasks (`+taskColumns+`, answered_at, wait_ms, handle_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?18, ?24, ?25)
		ON CONFLICT (id) DO UPDATE SET attributes = excluded.attributes, priority = excluded.priority, state = excluded.state,
		workflow_id = excluded.workflow_id, filter = excluded.filter, filter_index = excluded.filter_index,
		target_index = excluded.target_index, queue_id = excluded.queue_id, target_expires = excluded.target_expires,
		worker_id = excluded.worker_id, rejected_by = excluded.rejected_by, reason = excluded.reason,
		disposition = excluded.disposition, assigned_at = excluded.assigned_at, ended_at = excluded.ended_at,
		updated_at = excluded.updated_at, retry_at = excluded.retry_at, wrap_up_at = excluded.wrap_up_at,
		wrap_up_ends = excluded.wrap_up_ends, handle_ms = excluded.handle_ms,
		wait_ms = CASE WHEN routing_tasks.answered_at = '' THEN excluded.wait_ms ELSE routing_tasks.wait_ms END,
		answered_at = CASE WHEN routing_tasks.answered_at = '' THEN excluded.assigned_at ELSE routing_tasks.answered_at END`,
		t.ID, t.Channel, string(attrs), t.Priority, t.ConversationID, t.State, t.WorkflowID, t.Filter, t.FilterIndex, t.TargetIndex,
		t.QueueID, formatTime(t.TargetExpiresAt), t.WorkerID, string(rj), t.Reason, t.Disposition,
		formatTime(t.CreatedAt), formatTime(t.AssignedAt), formatTime(t.EndedAt), formatTime(t.UpdatedAt),
		formatTime(t.RetryAt), formatTime(t.WrapUpAt), formatTime(t.WrapUpEndsAt), storekit.WaitMillis(t), storekit.HandleMillis(t))
	if err != nil {
		return fmt.Errorf("save task: %w", err)
	}
	return tx.AppendEvent(ctx, backend.EventTaskUpserted, t.ID, t)
}

func findTasks(ctx context.Context, q queryer, where string, args ...any) ([]*backend.Task, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+taskColumns+` FROM routing_tasks WHERE `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*backend.Task
	for rows.Next() {
		var t backend.Task
		var attrs, expires, rejected, created, assigned, ended, updated, retry, wrapAt, wrapEnds string
		if err := rows.Scan(&t.ID, &t.Channel, &attrs, &t.Priority, &t.ConversationID, &t.State, &t.WorkflowID, &t.Filter,
			&t.FilterIndex, &t.TargetIndex, &t.QueueID, &expires, &t.WorkerID, &rejected, &t.Reason, &t.Disposition,
			&created, &assigned, &ended, &updated, &retry, &wrapAt, &wrapEnds); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(attrs), &t.Attributes); err != nil {
			return nil, fmt.Errorf("task %s attributes: %w", t.ID, err)
		}
		if err := json.Unmarshal([]byte(rejected), &t.RejectedBy); err != nil {
			return nil, fmt.Errorf("task %s rejected_by: %w", t.ID, err)
		}
		if len(t.RejectedBy) == 0 {
			t.RejectedBy = nil
		}
		t.TargetExpiresAt, t.CreatedAt, t.AssignedAt = parseTime(expires), parseTime(created), parseTime(assigned)
		t.EndedAt, t.UpdatedAt = parseTime(ended), parseTime(updated)
		t.RetryAt, t.WrapUpAt, t.WrapUpEndsAt = parseTime(retry), parseTime(wrapAt), parseTime(wrapEnds)
		out = append(out, &t)
	}
	return out, rows.Err()
}

func saveReservation(ctx context.Context, tx *Tx, r *backend.Reservation) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO routing_reservations (id, task_id, worker_id, channel, queue_id, state, expires_at,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
		r.ID, r.TaskID, r.WorkerID, r.Channel, r.QueueID, r.State, formatTime(r.ExpiresAt), formatTime(r.CreatedAt), formatTime(r.UpdatedAt))
	if err != nil {
		return routingErr("save reservation", err, fmt.Sprintf("Task %s is already reserved to a worker.", r.TaskID))
	}
	return tx.AppendEvent(ctx, backend.EventReservationUpserted, r.ID, r)
}

func findReservations(ctx context.Context, q queryer, where string, args ...any) ([]*backend.Reservation, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, task_id, worker_id, channel, queue_id, state, expires_at, created_at, updated_at
		FROM routing_reservations WHERE `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*backend.Reservation
	for rows.Next() {
		var r backend.Reservation
		var expires, created, updated string
		if err := rows.Scan(&r.ID, &r.TaskID, &r.WorkerID, &r.Channel, &r.QueueID, &r.State, &expires, &created, &updated); err != nil {
			return nil, err
		}
		r.ExpiresAt, r.CreatedAt, r.UpdatedAt = parseTime(expires), parseTime(created), parseTime(updated)
		out = append(out, &r)
	}
	return out, rows.Err()
}
