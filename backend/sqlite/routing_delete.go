package sqlite

import (
	"context"
	"fmt"

	"switchboard/backend"
)

// deleteRouting removes what a routing change deleted, with an event each:
// queues and workflows go with their counters; a worker keeps its row
// (past reservations name it) but leaves routing and frees its user.
func deleteRouting(ctx context.Context, tx *Tx, c *backend.RoutingChange) error {
	for _, id := range c.DeletedQueues {
		if _, err := tx.ExecContext(ctx, `DELETE FROM routing_queues WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete queue: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM routing_counters WHERE scope = 'queue' AND id = ?`, id); err != nil {
			return fmt.Errorf("delete queue counters: %w", err)
		}
		if err := tx.AppendEvent(ctx, backend.EventQueueDeleted, id, map[string]string{"id": id}); err != nil {
			return err
		}
	}
	for _, id := range c.DeletedWorkflows {
		if _, err := tx.ExecContext(ctx, `DELETE FROM routing_workflows WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete workflow: %w", err)
		}
		if err := tx.AppendEvent(ctx, backend.EventWorkflowDeleted, id, map[string]string{"id": id}); err != nil {
			return err
		}
	}
	for _, id := range c.DeletedWorkers {
		if _, err := tx.ExecContext(ctx, `UPDATE routing_workers SET deleted_at = ?, user_id = '', updated_at = ? WHERE id = ?`,
			formatTime(tx.Now()), formatTime(tx.Now()), id); err != nil {
			return fmt.Errorf("delete worker: %w", err)
		}
		if err := tx.AppendEvent(ctx, backend.EventWorkerDeleted, id, map[string]string{"id": id}); err != nil {
			return err
		}
	}
	return nil
}
