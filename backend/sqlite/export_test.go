package sqlite

import (
	"context"
	"database/sql"
)

// Update runs fn as one write transaction through the group-commit writer.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error { return db.update(ctx, fn) }

// SetBeforeCommit makes the writer call f after a batch's work and before
// its COMMIT; an error from f rolls the batch back. nil removes it.
func (db *DB) SetBeforeCommit(f func(ops int) error) {
	if f == nil {
		db.writer.beforeCommit.Store(nil)
		return
	}
	db.writer.beforeCommit.Store(&f)
}

// WriterPragma reads a pragma on the write connection.
func (db *DB) WriterPragma(ctx context.Context, name string) (string, error) {
	var v string
	err := db.exclusive(ctx, func(ctx context.Context, c *sql.Conn) error {
		return c.QueryRowContext(ctx, `PRAGMA `+name).Scan(&v)
	})
	return v, err
}

// PendingWorkQueries are the queries that find pending work, by name, with
// the indexes their plan must use.
var PendingWorkQueries = []struct {
	Name, Query string
	Args        []any
	Indexes     []string
}{
	{"outbox claim", claimOutboxQuery, []any{"", "", 100}, []string{"channel_outbox_open", "channel_outbox_open_conversation"}},
	{"outbox next due", nextOutboxDueQuery, nil, []string{"channel_outbox_pending_due", "channel_outbox_sending_lease"}},
	{"outbox enqueue", enqueueOutboxQuery, []any{0, 0}, []string{"messages_outbound_queued"}},
	{"inbound cursor", inboundAfterQuery, []any{0, 100}, []string{"messages_inbound"}},
	{"change feed", eventsSinceQuery, []any{0, 100}, []string{"INTEGER PRIMARY KEY (rowid>?)"}},
	{"backlog", backlogQuery, []any{""}, []string{"channel_outbox_pending_due", "channel_outbox_sending_lease", "routing_tasks_waiting"}},
	{"flow timeouts", dueFlowQuery, []any{"", 100}, []string{"flow_executions_deadline"}},
	{"media fetch next due", nextMediaFetchQuery, nil, []string{"media_files_due"}},
}

// CountRows counts the rows of a table.
func (db *DB) CountRows(ctx context.Context, table string) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n)
	return n, err
}

// CheckpointStats are the checkpointer's counters.
type CheckpointStats struct{ Runs, ByWriter, Failures, Frames int64 }

// CheckpointerStats reads the checkpointer's counters.
func (db *DB) CheckpointerStats() CheckpointStats {
	c := db.ckpt
	return CheckpointStats{c.runs.Load(), c.byWriter.Load(), c.failures.Load(), c.frames.Load()}
}

// SetWALLimit changes the log size (pages) past which the writer
// checkpoints itself.
func (db *DB) SetWALLimit(frames int64) { db.ckpt.limit.Store(frames) }

// SetConvertMax sets the bytes in use up to which Open converts a file
// without auto-vacuum to incremental auto-vacuum.
func (db *DB) SetConvertMax(n int64) { db.convertMax = n }
