package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"switchboard/backend"
	"switchboard/backend/internal/storetx"
)

var _ backend.RoutingStore = (*DB)(nil)

// LoadRouting implements backend.RoutingStore.
func (db *DB) LoadRouting(ctx context.Context) (*backend.RoutingSnapshot, error) {
	snap := &backend.RoutingSnapshot{QueueCounters: map[string]backend.RoutingCounters{}, WorkerCounters: map[string]backend.RoutingCounters{}}
	var err error
	if snap.Activities, err = findActivities(ctx, db.r); err != nil {
		return nil, fmt.Errorf("load activities: %w", err)
	}
	if snap.Workers, err = findWorkers(ctx, db.r); err != nil {
		return nil, fmt.Errorf("load workers: %w", err)
	}
	if snap.Queues, err = findQueues(ctx, db.r); err != nil {
		return nil, fmt.Errorf("load queues: %w", err)
	}
	if snap.Workflows, err = findWorkflows(ctx, db.r); err != nil {
		return nil, fmt.Errorf("load workflows: %w", err)
	}
	if snap.Tasks, err = findTasks(ctx, db.r, `state NOT IN ('completed', 'canceled')`); err != nil {
		return nil, fmt.Errorf("load tasks: %w", err)
	}
	if snap.Reservations, err = findReservations(ctx, db.r, `state IN ('pending', 'accepted', 'wrapping')`); err != nil {
		return nil, fmt.Errorf("load reservations: %w", err)
	}
	if err := loadCounters(ctx, db.r, snap); err != nil {
		return nil, fmt.Errorf("load counters: %w", err)
	}
	return snap, nil
}

// SaveRouting implements backend.RoutingStore.
func (db *DB) SaveRouting(ctx context.Context, c *backend.RoutingChange) error {
	return db.QueueRouting(ctx, c)()
}

// QueueRouting queues c in the writer behind every write queued before it
// and returns what waits until c is durable, so the router decides its
// next operations during the commit (routing.QueuedStore).
func (db *DB) QueueRouting(ctx context.Context, c *backend.RoutingChange) (wait func() error) {
	if db.writer == nil {
		return func() error { return errClosed }
	}
	return db.writer.enqueue(&op{ctx: ctx, fn: func(tx *Tx) error {
		for _, a := range c.Activities {
			if err := saveActivity(ctx, tx, a); err != nil {
				return err
			}
		}
		for _, w := range c.Workers {
			if err := saveWorker(ctx, tx, w); err != nil {
				return err
			}
		}
		for _, q := range c.Queues {
			if err := saveQueue(ctx, tx, q); err != nil {
				return err
			}
		}
		for _, wf := range c.Workflows {
			if err := saveWorkflow(ctx, tx, wf); err != nil {
				return err
			}
		}
		for _, t := range c.Tasks {
			if err := saveTask(ctx, tx, t); err != nil {
				return err
			}
		}
		// Reservations that end go first, so one that starts in the same
		// change never meets the old one in the unique index.
		for _, active := range []bool{false, true} {
			for _, r := range c.Reservations {
				if r.Active() != active {
					continue
				}
				if err := saveReservation(ctx, tx, r); err != nil {
					return err
				}
			}
		}
		if err := deleteRouting(ctx, tx, c); err != nil {
			return err
		}
		for _, s := range c.QueueStats {
			if err := saveCounters(ctx, tx, "queue", s.QueueID, s.RoutingCounters); err != nil {
				return err
			}
			if err := tx.AppendEvent(ctx, backend.EventQueueStats, s.QueueID, s); err != nil {
				return err
			}
		}
		for _, s := range c.WorkerStats {
			if err := saveCounters(ctx, tx, "worker", s.WorkerID, s.RoutingCounters); err != nil {
				return err
			}
			if err := tx.AppendEvent(ctx, backend.EventWorkerStats, s.WorkerID, s); err != nil {
				return err
			}
		}
		for _, m := range c.MissedOffers {
			if err := tx.AppendEvent(ctx, backend.EventOfferMissed, m.ReservationID, m); err != nil {
				return err
			}
		}
		return storetx.SaveAccess(ctx, steps{tx}, c.Access, c.AccessComplete)
	}})
}

// FindTask implements backend.RoutingStore.
func (db *DB) FindTask(ctx context.Context, id string) (*backend.Task, error) {
	ts, err := findTasks(ctx, db.r, `id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("find task: %w", err)
	} else if len(ts) == 0 {
		return nil, backend.Errorf(backend.ENotFound, "Task %s does not exist.", id)
	}
	return ts[0], nil
}

// isUnique reports whether err is a violated UNIQUE constraint.
func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// routingErr wraps a write error, turning a uniqueness violation into
// EConflict.
func routingErr(what string, err error, conflict string) error {
	if isUnique(err) {
		return backend.Errorf(backend.EConflict, "%s", conflict)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func saveCounters(ctx context.Context, tx *Tx, scope, id string, c backend.RoutingCounters) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO routing_counters (scope, id, offered, accepted, rejected, timed_out, canceled, completed,
		answered, wait_millis, handle_millis, within_sla) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (scope, id) DO UPDATE SET offered = excluded.offered, accepted = excluded.accepted, rejected = excluded.rejected,
		timed_out = excluded.timed_out, canceled = excluded.canceled, completed = excluded.completed, answered = excluded.answered,
		wait_millis = excluded.wait_millis, handle_millis = excluded.handle_millis, within_sla = excluded.within_sla`,
		scope, id, c.Offered, c.Accepted, c.Rejected, c.TimedOut, c.Canceled, c.Completed, c.Answered, c.WaitMillis, c.HandleMillis, c.WithinSLA)
	if err != nil {
		return fmt.Errorf("save %s counters: %w", scope, err)
	}
	return nil
}

func loadCounters(ctx context.Context, q queryer, snap *backend.RoutingSnapshot) error {
	rows, err := q.QueryContext(ctx, `SELECT scope, id, offered, accepted, rejected, timed_out, canceled, completed,
		answered, wait_millis, handle_millis, within_sla FROM routing_counters`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var scope, id string
		var c backend.RoutingCounters
		if err := rows.Scan(&scope, &id, &c.Offered, &c.Accepted, &c.Rejected, &c.TimedOut, &c.Canceled, &c.Completed,
			&c.Answered, &c.WaitMillis, &c.HandleMillis, &c.WithinSLA); err != nil {
			return err
		}
		switch scope {
		case "queue":
			snap.QueueCounters[id] = c
		case "worker":
			snap.WorkerCounters[id] = c
		default:
			return errors.New("unknown counter scope " + scope)
		}
	}
	return rows.Err()
}
