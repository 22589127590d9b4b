package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/backend"
)

// The store's writer runs every write transaction on its one connection.
// Transactions that callers submit while a commit is under way wait in a
// queue; the writer then runs the whole queue as one SQLite transaction
// (group commit): each caller's work inside its own SAVEPOINT, so a failing
// one rolls back only its own changes, then one COMMIT, which with
// synchronous=FULL returns once the WAL is on disk. Only then is every
// caller answered, so no caller hears of success before its work survives
// a power loss, and one disk flush serves the whole batch.

// maxBatch bounds the transactions committed together, so one commit's
// latency stays bounded under a flood.
const maxBatch = 512

// maxCachedStmts bounds the prepared statements each connection keeps;
// statements built at run time (IN lists of varying length) beyond it are
// prepared for each use.
const maxCachedStmts = 1024

// op is one caller's unit of work for the writer.
type op struct {
	ctx context.Context
	// fn is a write transaction; raw, work outside any transaction
	// (VACUUM, checkpoints), run alone.
	fn  func(tx *Tx) error
	raw func(ctx context.Context, c *sql.Conn) error

	err   error
	panic any
	done  chan struct{}
}

// writer owns the store's write connection and its queue.
type writer struct {
	db    *DB
	conn  *sql.Conn
	stmts *stmtCache

	mu     sync.Mutex
	queue  []*op
	closed bool
	wake   chan struct{}
	exited chan struct{}

	// Counters for the metrics endpoint and tests.
	batches, ops, commitNanos, longestBatch atomic.Int64

	// beforeCommit, when set (tests), runs after the batch's work and
	// before its COMMIT; an error makes the batch roll back instead.
	beforeCommit atomic.Pointer[func(ops int) error]
}

// errClosed is returned for work submitted after Close.
var errClosed = backend.Errorf(backend.EUnavailable, "The store is closed.")

func newWriter(db *DB, conn *sql.Conn) *writer {
	w := &writer{db: db, conn: conn, stmts: newStmtCache(conn), wake: make(chan struct{}, 1), exited: make(chan struct{})}
	go w.loop()
	return w
}

// submit queues o and waits until the writer answered it.
func (w *writer) submit(o *op) error {
	return w.enqueue(o)()
}

// enqueue queues o behind everything queued before it and returns what
// waits until the writer answered it (and re-raises a panic of o's work).
func (w *writer) enqueue(o *op) (wait func() error) {
	o.done = make(chan struct{})
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return func() error { return errClosed }
	}
	w.queue = append(w.queue, o)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return func() error {
		<-o.done
		if o.panic != nil {
			panic(o.panic)
		}
		return o.err
	}
}

// close answers what is queued, then stops the writer; it reports false
// when the writer was already closed.
func (w *writer) close() bool {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return false
	}
	w.closed = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.exited
	w.stmts.close()
	return true
}

func (w *writer) loop() {
	defer close(w.exited)
	for {
		w.mu.Lock()
		n := min(len(w.queue), maxBatch)
		batch := w.queue[:n:n]
		w.queue = w.queue[n:]
		if len(w.queue) == 0 {
			w.queue = nil
		}
		closed := w.closed
		w.mu.Unlock()
		if n == 0 {
			if closed {
				return
			}
			<-w.wake
			continue
		}
		w.run(batch)
	}
}

// run executes one batch: raw work alone, transactions together.
func (w *writer) run(batch []*op) {
	var txs []*op
	for _, o := range batch {
		if o.raw == nil {
			txs = append(txs, o)
			continue
		}
		w.commitBatch(txs)
		txs = nil
		o.err = o.raw(context.Background(), w.conn)
		close(o.done)
	}
	w.commitBatch(txs)
}

// commitBatch runs txs in one SQLite transaction and answers them.
func (w *writer) commitBatch(txs []*op) {
	if len(txs) == 0 {
		return
	}
	start := time.Now()
	events, err := w.runBatch(txs)
	w.batches.Add(1)
	w.ops.Add(int64(len(txs)))
	w.commitNanos.Add(int64(time.Since(start)))
	if int64(len(txs)) > w.longestBatch.Load() {
		w.longestBatch.Store(int64(len(txs)))
	}
	if err == nil && events > 0 {
		w.db.wake()
	}
	if err == nil && w.db.ckpt != nil {
		w.db.ckpt.committed()
	}
	for _, o := range txs {
		if err != nil && o.err == nil && o.panic == nil {
			o.err = err
		}
		close(o.done)
	}
}

// runBatch runs the batch's transactions and commits. An error means
// nothing of the batch was committed; each op's own failure is in op.err.
func (w *writer) runBatch(txs []*op) (events int, err error) {
	ctx := context.Background()
	if _, err := w.exec(ctx, `BEGIN IMMEDIATE`); err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			w.exec(ctx, `ROLLBACK`)
		}
	}()
	alone := len(txs) == 1
	ran := 0
	for _, o := range txs {
		if err := o.ctx.Err(); err != nil {
			o.err = err // the caller left before its turn
			continue
		}
		n, err := w.runOne(ctx, o, alone)
		if err != nil {
			return 0, err
		}
		events += n
		ran++
	}
	if ran == 0 || (alone && (txs[0].err != nil || txs[0].panic != nil)) {
		return 0, nil // nothing to commit; the deferred ROLLBACK ends it
	}
	if hook := w.beforeCommit.Load(); hook != nil {
		if err := (*hook)(len(txs)); err != nil {
			return 0, err
		}
	}
	if _, err := w.exec(ctx, `COMMIT`); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	committed = true
	return events, nil
}

// exec runs one of the writer's own statements (begin, savepoint,
// release, commit, rollback), prepared once like the callers' statements.
func (w *writer) exec(ctx context.Context, query string) (sql.Result, error) {
	st, err := w.stmts.get(ctx, query)
	if err != nil {
		return nil, err
	} else if st == nil {
		return w.conn.ExecContext(ctx, query)
	}
	return st.ExecContext(ctx)
}

// runOne runs one op inside its savepoint (or, alone in its batch, in the
// transaction itself). It returns the events it appended; an error means
// the whole transaction is broken.
func (w *writer) runOne(ctx context.Context, o *op, alone bool) (int, error) {
	if !alone {
		if _, err := w.exec(ctx, `SAVEPOINT op`); err != nil {
			return 0, fmt.Errorf("savepoint: %w", err)
		}
	}
	tx := &Tx{w: w, now: w.db.Now().UTC()}
	func() {
		defer func() {
			if r := recover(); r != nil {
				o.panic = r
			}
		}()
		o.err = o.fn(tx)
	}()
	if alone {
		return tx.events, nil
	}
	if o.err != nil || o.panic != nil {
		if _, err := w.exec(ctx, `ROLLBACK TO op`); err != nil {
			return 0, fmt.Errorf("roll back to savepoint: %w", err)
		}
		tx.events = 0
	}
	if _, err := w.exec(ctx, `RELEASE op`); err != nil {
		return 0, fmt.Errorf("release savepoint: %w", err)
	}
	return tx.events, nil
}

// stmtCache keeps prepared statements of one connection (or pool) by text.
type stmtCache struct {
	prep interface {
		PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
	}
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(prep interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}) *stmtCache {
	return &stmtCache{prep: prep, stmts: map[string]*sql.Stmt{}}
}

// get returns the prepared statement for query, or nil when it should be
// run unprepared (several statements, or the cache is full).
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	if len(c.stmts) >= maxCachedStmts || strings.Contains(strings.TrimRight(strings.TrimSpace(query), ";"), ";") {
		return nil, nil
	}
	st, err := c.prep.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// cached returns the statement prepared for query, or nil when there is
// none yet. A read transaction asks this instead of get: preparing takes a
// connection from the pool, and the transaction may hold the last one.
func (c *stmtCache) cached(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stmts[query]
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = map[string]*sql.Stmt{}
}

// Tx is one caller's write transaction inside the writer's batch. Its
// statements are prepared once per connection and are not interrupted by
// the caller's context (they share the batch's transaction with other
// callers' work).
type Tx struct {
	w      *writer
	now    time.Time
	events int
}

// Now returns the transaction's timestamp: one instant for every row it writes.
func (tx *Tx) Now() time.Time { return tx.now }

// ExecContext runs a statement in the transaction.
func (tx *Tx) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	ctx := context.Background()
	st, err := tx.w.stmts.get(ctx, query)
	if err != nil {
		return nil, err
	} else if st == nil {
		return tx.w.conn.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

// QueryContext runs a query in the transaction.
func (tx *Tx) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx := context.Background()
	st, err := tx.w.stmts.get(ctx, query)
	if err != nil {
		return nil, err
	} else if st == nil {
		return tx.w.conn.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs a query expected to return at most one row.
func (tx *Tx) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	ctx := context.Background()
	st, err := tx.w.stmts.get(ctx, query)
	if err != nil || st == nil {
		// An unprepared query reports a preparation error through Scan.
		return tx.w.conn.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// reader is the read pool; its queries are prepared once per connection.
type reader struct {
	*sql.DB
	stmts *stmtCache
}

// QueryContext runs a read query with a prepared statement.
func (r *reader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := r.stmts.get(ctx, query)
	if err != nil {
		return nil, err
	} else if st == nil {
		return r.DB.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs a read query expected to return at most one row.
func (r *reader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := r.stmts.get(ctx, query)
	if err != nil || st == nil {
		return r.DB.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// readTx is a read transaction (one snapshot of the store) whose queries
// use the pool's prepared statements.
type readTx struct {
	*sql.Tx
	stmts *stmtCache
}

// beginRead starts a read transaction.
func (r *reader) beginRead(ctx context.Context) (*readTx, error) {
	tx, err := r.DB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	return &readTx{Tx: tx, stmts: r.stmts}, nil
}

// QueryContext runs a query in the read transaction, with the pool's
// prepared statement when there is one.
func (t *readTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmts.cached(query); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query in the read transaction, with the pool's
// prepared statement when there is one.
func (t *readTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmts.cached(query); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

// update runs fn as one write transaction in the writer's next batch and
// returns once that batch is durable (or fn's error, with fn's changes
// rolled back).
func (db *DB) update(ctx context.Context, fn func(tx *Tx) error) error {
	if db.writer == nil {
		return errClosed
	}
	return db.writer.submit(&op{ctx: ctx, fn: fn})
}

// exclusive runs fn on the write connection outside any transaction, with
// no other write under way (VACUUM, checkpoints).
func (db *DB) exclusive(ctx context.Context, fn func(ctx context.Context, c *sql.Conn) error) error {
	if db.writer == nil {
		return errClosed
	}
	return db.writer.submit(&op{ctx: ctx, raw: fn})
}

// WriterStats are the group-commit writer's counters since the store opened.
type WriterStats struct {
	// Batches is how many commits the writer made, Transactions how many
	// callers' transactions they carried.
	Batches, Transactions int64
	// LongestBatch is the most transactions one commit carried.
	LongestBatch int64
	// Busy is the time spent running and committing batches.
	Busy time.Duration
	// Queued is how many transactions wait for the next batch now.
	Queued int
	// Checkpoints is how many times the checkpointer copied the log into
	// the file, CheckpointsByWriter how many of them the writer ran
	// because the log had passed its limit, and WALPages the log's size at
	// the last one.
	Checkpoints, CheckpointsByWriter, WALPages int64
}

// WriterStats returns the writer's counters.
func (db *DB) WriterStats() WriterStats {
	w := db.writer
	if w == nil {
		return WriterStats{}
	}
	w.mu.Lock()
	queued := len(w.queue)
	w.mu.Unlock()
	st := WriterStats{Batches: w.batches.Load(), Transactions: w.ops.Load(), LongestBatch: w.longestBatch.Load(),
		Busy: time.Duration(w.commitNanos.Load()), Queued: queued}
	if c := db.ckpt; c != nil {
		st.Checkpoints, st.CheckpointsByWriter, st.WALPages = c.runs.Load(), c.byWriter.Load(), c.frames.Load()
	}
	return st
}
