package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The store's checkpointer copies committed pages from the write-ahead log
// into the database file on a connection of its own. Left to SQLite, the
// commit that took the log past 1,000 pages copied them itself and flushed
// the file before it returned, so that batch's callers, and every batch
// queued behind it, waited for the copy: those were the slowest commits.
// The writer's connection therefore never checkpoints on its own
// (wal_autocheckpoint 0); shortly after commits the checkpointer runs a
// PASSIVE checkpoint, which never blocks the writer or the readers.
//
// A passive checkpoint cannot let the log start over while the writer keeps
// appending to it (SQLite rewinds the log only when a write begins with
// every frame copied), so under a steady stream of writes the log would
// only grow. When it holds walLimitFrames pages after a checkpoint, the
// writer checkpoints once between two batches: nothing is appended
// meanwhile, so that one copies the few frames the checkpointer had not
// reached yet, and the next write starts the log over.

const (
	// checkpointDelay gathers the commits of a moment into one checkpoint.
	checkpointDelay = 100 * time.Millisecond
	// walLimitFrames bounds the log: 4,096 pages (16 MiB of 4 KiB pages).
	walLimitFrames = 4096
	walLimitBytes  = walLimitFrames * 4096
)

type checkpointer struct {
	db     *DB
	pool   *sql.DB // one connection, apart from the writer's and the readers'
	nudge  chan struct{}
	stop   chan struct{}
	exited chan struct{}
	closed sync.Once

	// Counters for the metrics endpoint and tests.
	runs, byWriter, failures atomic.Int64
	// frames is the log's size in pages at the last checkpoint.
	frames atomic.Int64
	// limit is the log's size in pages past which the writer checkpoints.
	limit atomic.Int64
}

func newCheckpointer(db *DB, pool *sql.DB) *checkpointer {
	c := &checkpointer{db: db, pool: pool, nudge: make(chan struct{}, 1), stop: make(chan struct{}), exited: make(chan struct{})}
	c.limit.Store(walLimitFrames)
	go c.loop()
	return c
}

// committed tells the checkpointer that the log grew.
func (c *checkpointer) committed() {
	select {
	case c.nudge <- struct{}{}:
	default:
	}
}

// close stops the checkpointer and closes its connection (SQLite copies
// what is left when the store's last connection closes).
func (c *checkpointer) close() {
	c.closed.Do(func() {
		close(c.stop)
		<-c.exited
		c.pool.Close()
	})
}

func (c *checkpointer) loop() {
	defer close(c.exited)
	ctx := context.Background()
	for {
		select {
		case <-c.stop:
			return
		case <-c.nudge:
		}
		select {
		case <-c.stop:
			return
		case <-time.After(checkpointDelay):
		}
		log, err := checkpoint(ctx, c.pool)
		if err == nil {
			c.runs.Add(1)
			c.frames.Store(log)
		}
		if err == nil && log >= c.limit.Load() {
			err = c.db.exclusive(ctx, func(ctx context.Context, conn *sql.Conn) error {
				_, err := checkpoint(ctx, conn)
				return err
			})
			if err == nil {
				c.byWriter.Add(1)
			}
		}
		if err != nil {
			c.failures.Add(1) // the next commit tries again
		}
	}
}

// checkpoint runs a passive checkpoint and returns the log's size in
// pages.
func checkpoint(ctx context.Context, q queryer) (log int64, err error) {
	var busy, copied int64
	if err := q.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied); err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	return log, nil
}
