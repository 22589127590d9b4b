package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
)

var _ backend.RoutingStore = (*DB)(nil)

// LoadRouting implements backend.RoutingStore. It reads in one
// repeatable-read transaction: a consistent state to take over from.
func (db *DB) LoadRouting(ctx context.Context) (*backend.RoutingSnapshot, error) {
	tx, err := db.pool.BeginTx(ctx, pgxReadOnly)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	snap := &backend.RoutingSnapshot{QueueCounters: map[string]backend.RoutingCounters{}, WorkerCounters: map[string]backend.RoutingCounters{}}
	if snap.Activities, err = collect(ctx, tx, jsonOf[backend.Activity], `SELECT data FROM routing_activities ORDER BY name`); err != nil {
		return nil, fmt.Errorf("load activities: %w", err)
	}
	if snap.Workers, err = collect(ctx, tx, jsonOf[backend.Worker], `SELECT w.data || jsonb_build_object('available', COALESCE(a.available, false))
		FROM routing_workers w LEFT JOIN routing_activities a ON a.name = w.data->>'activity' WHERE w.deleted_at IS NULL ORDER BY w.id`); err != nil {
		return nil, fmt.Errorf("load workers: %w", err)
	}
	if snap.Queues, err = collect(ctx, tx, jsonOf[backend.Queue], `SELECT data FROM routing_queues ORDER BY id`); err != nil {
		return nil, fmt.Errorf("load queues: %w", err)
	}
	if snap.Workflows, err = collect(ctx, tx, jsonOf[backend.Workflow], `SELECT data FROM routing_workflows ORDER BY id`); err != nil {
		return nil, fmt.Errorf("load workflows: %w", err)
	}
	if snap.Tasks, err = findTasks(ctx, tx, `state NOT IN ('completed', 'canceled')`); err != nil {
		return nil, fmt.Errorf("load tasks: %w", err)
	}
	if snap.Reservations, err = collect(ctx, tx, jsonOf[backend.Reservation], `SELECT data FROM routing_reservations
		WHERE state IN ('pending', 'accepted', 'wrapping') ORDER BY created_at, id`); err != nil {
		return nil, fmt.Errorf("load reservations: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT scope, id, counters FROM routing_counters`)
	if err != nil {
		return nil, fmt.Errorf("load counters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var scope, id string
		var c backend.RoutingCounters
		if err := rows.Scan(&scope, &id, &c); err != nil {
			return nil, err
		}
		switch scope {
		case "queue":
			snap.QueueCounters[id] = c
		case "worker":
			snap.WorkerCounters[id] = c
		default:
			return nil, errors.New("unknown counter scope " + scope)
		}
	}
	return snap, rows.Err()
}

// SaveRouting implements backend.RoutingStore.
func (db *DB) SaveRouting(ctx context.Context, c *backend.RoutingChange) error {
	return db.update(ctx, func(tx *Tx) error { return saveRouting(ctx, tx, c) })
}

// saveRouting writes one routing decision with its events.
func saveRouting(ctx context.Context, tx *Tx, c *backend.RoutingChange) error {
	for _, a := range c.Activities {
		if err := saveEntity(ctx, tx, backend.EventActivityUpserted, a.Name, a, `INSERT INTO routing_activities (name, available, data)
			VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET available = excluded.available, data = excluded.data`, a.Name, a.Available, a); err != nil {
			return err
		}
	}
	for _, w := range c.Workers {
		if err := saveEntity(ctx, tx, backend.EventWorkerUpserted, w.ID, w, `INSERT INTO routing_workers (id, user_id, data) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data`, w.ID, w.UserID, w); err != nil {
			return conflict(err, "User %s already has a worker.", w.UserID)
		}
	}
	for _, q := range c.Queues {
		if err := saveEntity(ctx, tx, backend.EventQueueUpserted, q.ID, q, `INSERT INTO routing_queues (id, name, data) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data`, q.ID, q.Name, q); err != nil {
			return conflict(err, "A queue named %s already exists.", q.Name)
		}
	}
	for _, wf := range c.Workflows {
		if err := saveEntity(ctx, tx, backend.EventWorkflowUpserted, wf.ID, wf, `INSERT INTO routing_workflows (id, data) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET data = excluded.data`, wf.ID, wf); err != nil {
			return err
		}
	}
	for _, t := range c.Tasks {
		// For reports: answered_at and wait_ms keep the first accept;
		// handle_ms is the completed task's time from its last accept to
		// its end.
		if err := saveEntity(ctx, tx, backend.EventTaskUpserted, t.ID, t, `INSERT INTO routing_tasks (id, conversation_id, state, created_at, data,
			channel, queue_id, worker_id, ended_at, answered_at, wait_ms, handle_ms)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO UPDATE SET state = excluded.state, data = excluded.data,
			channel = excluded.channel, queue_id = excluded.queue_id, worker_id = excluded.worker_id, ended_at = excluded.ended_at,
			handle_ms = excluded.handle_ms,
			wait_ms = CASE WHEN routing_tasks.answered_at IS NULL THEN excluded.wait_ms ELSE routing_tasks.wait_ms END,
			answered_at = COALESCE(routing_tasks.answered_at, excluded.answered_at)`,
			t.ID, t.ConversationID, t.State, t.CreatedAt, t, t.Channel, t.QueueID, t.WorkerID, tz(t.EndedAt), tz(t.AssignedAt),
			storekit.WaitMillis(t), storekit.HandleMillis(t)); err != nil {
			return err
		}
	}
	// Reservations that end go first, so one that starts in the same change
	// never meets the old one in the unique index.
	for _, active := range []bool{false, true} {
		for _, r := range c.Reservations {
			if r.Active() != active {
				continue
			}
			if err := saveEntity(ctx, tx, backend.EventReservationUpserted, r.ID, r, `INSERT INTO routing_reservations
				(id, task_id, worker_id, state, created_at, data, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (id) DO UPDATE SET state = excluded.state, data = excluded.data, updated_at = excluded.updated_at`,
				r.ID, r.TaskID, r.WorkerID, r.State, r.CreatedAt, r, tz(r.UpdatedAt)); err != nil {
				return conflict(err, "Task %s is already reserved to a worker.", r.TaskID)
			}
		}
	}
	if err := deleteRouting(ctx, tx, c); err != nil {
		return err
	}
	for _, s := range c.QueueStats {
		if err := saveEntity(ctx, tx, backend.EventQueueStats, s.QueueID, s, `INSERT INTO routing_counters (scope, id, counters)
			VALUES ('queue', $1, $2) ON CONFLICT (scope, id) DO UPDATE SET counters = excluded.counters`, s.QueueID, s.RoutingCounters); err != nil {
			return err
		}
	}
	for _, s := range c.WorkerStats {
		if err := saveEntity(ctx, tx, backend.EventWorkerStats, s.WorkerID, s, `INSERT INTO routing_counters (scope, id, counters)
			VALUES ('worker', $1, $2) ON CONFLICT (scope, id) DO UPDATE SET counters = excluded.counters`, s.WorkerID, s.RoutingCounters); err != nil {
			return err
		}
	}
	for _, m := range c.MissedOffers {
		if err := tx.AppendEvent(ctx, backend.EventOfferMissed, m.ReservationID, m); err != nil {
			return err
		}
	}
	return storetx.SaveAccess(ctx, steps{tx}, c.Access, c.AccessComplete)
}

// saveEntity runs one upsert and appends the entity's event.
func saveEntity(ctx context.Context, tx *Tx, typ, id string, v any, sql string, args ...any) error {
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("save %s %s: %w", typ, id, err)
	}
	return tx.AppendEvent(ctx, typ, id, v)
}

// conflict turns a violated uniqueness into EConflict with a sentence.
func conflict(err error, format string, args ...any) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return backend.Errorf(backend.EConflict, format, args...)
	}
	return err
}

// deleteRouting removes what a routing change deleted, with an event each:
// queues and workflows go with their counters; a worker keeps its row
// (past reservations name it) but leaves routing and frees its user.
func deleteRouting(ctx context.Context, tx *Tx, c *backend.RoutingChange) error {
	for _, list := range []struct {
		ids []string
		typ string
		sql string
	}{
		{c.DeletedQueues, backend.EventQueueDeleted, `WITH q AS (DELETE FROM routing_queues WHERE id = $1)
			DELETE FROM routing_counters WHERE scope = 'queue' AND id = $1`},
		{c.DeletedWorkflows, backend.EventWorkflowDeleted, `DELETE FROM routing_workflows WHERE id = $1`},
		{c.DeletedWorkers, backend.EventWorkerDeleted, `UPDATE routing_workers SET deleted_at = $2, user_id = '' WHERE id = $1`},
	} {
		for _, id := range list.ids {
			args := []any{id}
			if list.typ == backend.EventWorkerDeleted {
				args = append(args, tx.Now())
			}
			if err := saveEntity(ctx, tx, list.typ, id, map[string]string{"id": id}, list.sql, args...); err != nil {
				return err
			}
		}
	}
	return nil
}

// findTasks returns the tasks matching where, oldest first.
func findTasks(ctx context.Context, q querier, where string, args ...any) ([]*backend.Task, error) {
	return collect(ctx, q, jsonOf[backend.Task], `SELECT data FROM routing_tasks WHERE `+where+` ORDER BY created_at, id`, args...)
}

// FindTask implements backend.RoutingStore.
func (db *DB) FindTask(ctx context.Context, id string) (*backend.Task, error) {
	ts, err := findTasks(ctx, db.pool, `id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("find task: %w", err)
	} else if len(ts) == 0 {
		return nil, backend.Errorf(backend.ENotFound, "Task %s does not exist.", id)
	}
	return ts[0], nil
}
