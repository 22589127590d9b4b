// Package postgres implements the engine's store on PostgreSQL (pgx v5),
// for several `switchboard serve` nodes on one database: the same service
// interfaces as backend/sqlite, one change feed ordered by commit, nodes
// woken by LISTEN/NOTIFY, and what the nodes share to elect one routing
// leader (cluster.go). It holds every SQL statement of this store.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
)

//go:embed migration/*.sql
var migrationFS embed.FS

var _ backend.Store = (*DB)(nil)

// DB is the engine's store on one PostgreSQL database. Several processes
// (nodes) may open it at once.
type DB struct {
	// URL is the connection string, such as
	// postgres://switchboard@db.example.com/switchboard.
	URL string
	// Now is the clock; tests replace it. The store keeps microseconds.
	Now func() time.Time
	// PasswordCost is the bcrypt cost for new passwords.
	PasswordCost int
	// SessionMaxAge and SessionIdle end sessions (storekit's defaults when
	// zero).
	SessionMaxAge, SessionIdle time.Duration
	// Secrets seals channel configurations, web chat keys, trunk
	// configurations and flow HTTP headers before they are written.
	Secrets backend.Sealer
	// MaxConns bounds the connection pool (default 16).
	MaxConns int32
	// Name says who this node is in the nodes table (default: the host
	// name and process id).
	Name   string
	Logger *slog.Logger

	pool  *pgxpool.Pool
	dummy storekit.Dummy
	node  int64
	ln    *listener

	waiters storetx.Waiters
	// writes are the service methods storetx implements once for both
	// stores, run in this store's transactions (run).
	writes
}

// writes names storetx.Writes for embedding without an exported field.
type writes = storetx.Writes

// NewDB returns a DB for the database at url; call Open before use.
func NewDB(url string) *DB {
	db := &DB{URL: url, Now: time.Now, PasswordCost: 10}
	db.writes = storetx.Writes{Update: db.run, Lifetimes: db.lifetimes, Secrets: db.secrets}
	return db
}

// Open connects, applies pending migrations, checks the secret key and
// registers this process as a node (listening for the others' commits).
func (db *DB) Open(ctx context.Context) error {
	if db.Logger == nil {
		db.Logger = slog.Default()
	}
	if db.Name == "" {
		host, _ := os.Hostname()
		db.Name = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		return fmt.Errorf("open store: the PostgreSQL URL: %w", err)
	}
	cfg.MaxConns = db.MaxConns
	// The engine runs short statements and index-range reports; compiling
	// them (JIT, on by default from PostgreSQL 12) took longer than running
	// them: a month's report spent 1.5 s of 2.4 s compiling, misled by the
	// planner's guess of a period's tasks.
	cfg.ConnConfig.RuntimeParams["jit"] = "off"
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 16
	}
	if db.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	for _, step := range []func(context.Context) error{db.migrate, db.openSecrets, db.register} {
		if err := step(ctx); err != nil {
			db.Close()
			return fmt.Errorf("open store: %w", err)
		}
	}
	return nil
}

// Close stops listening and closes the pool. Other nodes then see this one
// as gone.
func (db *DB) Close() error {
	if db.ln != nil {
		db.ln.close()
	}
	if db.pool != nil {
		db.pool.Close()
	}
	return nil
}

// migrationLock serializes migrations of nodes starting together.
const migrationLock = 0x53420001

// migrate applies, in file-name order, every embedded migration not yet
// recorded, each in its own transaction, holding an advisory lock.
func (db *DB) migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("lock migrations: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM migrations WHERE name = $1)`, name).Scan(&done); err != nil || done {
				return err
			}
			buf, err := fs.ReadFile(migrationFS, name)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(buf)); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO migrations (name, applied_at) VALUES ($1, $2)`, name, db.now())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

// now returns the store's clock in UTC, truncated to what timestamptz keeps.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }

// pgxReadOnly reads a consistent snapshot.
var pgxReadOnly = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// querier is what both the pool and a transaction offer.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Tx is a write transaction that also collects the events it appends: they
// get their sequence numbers, in commit order, as it commits.
type Tx struct {
	pgx.Tx
	db     *DB
	now    time.Time
	events []pendingEvent
	// placed names the messages inserted here with the index of their
	// first event, whose sequence becomes their position.
	placed []placed
}

type pendingEvent struct {
	typ, entity string
	data        []byte
}

type placed struct {
	id    string
	event int
}

// Now returns the transaction's timestamp: one instant for every row it writes.
func (tx *Tx) Now() time.Time { return tx.now }

// AppendEvent adds an event carrying v (marshalled to JSON) to the log.
func (tx *Tx) AppendEvent(ctx context.Context, typ, entityID string, v any) error {
	data, err := marshalEvent(typ, v)
	if err != nil {
		return err
	}
	tx.events = append(tx.events, pendingEvent{typ: typ, entity: entityID, data: data})
	return nil
}

// placeMessage makes the message's position the sequence of the event
// appended next.
func (tx *Tx) placeMessage(id string) {
	tx.placed = append(tx.placed, placed{id: id, event: len(tx.events)})
}

// appendEvents gives the transaction's events their sequence numbers from
// the counter (whose row lock it then holds until the commit, so later
// transactions number after it), stores them with the positions of its
// messages and notifies the other nodes, in one statement.
const appendEvents = `WITH c AS (UPDATE event_counter SET last = last + $1 WHERE id = 1 RETURNING last - $1 AS base),
	ev AS (INSERT INTO events (seq, type, entity_id, data, created_at)
		SELECT c.base + e.ord, e.type, e.entity_id, e.data::json, $5 FROM c, unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS e (type, entity_id, data, ord)),
	m AS (UPDATE messages SET pos = c.base + p.ord FROM c, unnest($6::text[], $7::bigint[]) AS p (id, ord) WHERE messages.id = p.id)
	SELECT pg_notify('` + eventsChannel + `', (base + $1)::text) FROM c`

// commit appends the events and commits, then wakes this node's
// subscribers (the others wake on the notification).
func (tx *Tx) commit(ctx context.Context) error {
	if n := len(tx.events); n > 0 {
		types, entities, data := make([]string, n), make([]string, n), make([]string, n)
		for i, e := range tx.events {
			types[i], entities[i], data[i] = e.typ, e.entity, string(e.data)
		}
		ids, ords := make([]string, len(tx.placed)), make([]int64, len(tx.placed))
		for i, p := range tx.placed {
			ids[i], ords[i] = p.id, int64(p.event)+1
		}
		if _, err := tx.Exec(ctx, appendEvents, n, types, entities, data, tx.now, ids, ords); err != nil {
			return fmt.Errorf("append events: %w", err)
		}
	}
	if err := tx.Tx.Commit(ctx); err != nil {
		return err
	}
	if len(tx.events) > 0 {
		tx.db.wake()
	}
	return nil
}

// retryable reports whether a transaction failed only because another
// committed first (a serialization failure, a deadlock, or a uniqueness
// race such as two webhooks creating one contact), so running it again
// sees the winner's rows.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "40P01", "23505":
		return true
	}
	return false
}

// run runs fn in a write transaction through the store's steps.
func (db *DB) run(ctx context.Context, fn func(storetx.Steps) error) error {
	return db.update(ctx, func(tx *Tx) error { return fn(steps{tx}) })
}

// update runs fn in a write transaction and commits it when fn succeeds,
// running it again (a few times) when it lost a race.
func (db *DB) update(ctx context.Context, fn func(tx *Tx) error) error {
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		if err = db.updateOnce(ctx, fn); !retryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

func (db *DB) updateOnce(ctx context.Context, fn func(tx *Tx) error) error {
	ptx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: ptx, db: db, now: db.now()}
	defer ptx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	return tx.commit(ctx)
}

// wake signals every Notify subscriber of this node without blocking.
func (db *DB) wake() { db.waiters.Wake() }

// Notify implements backend.EventService: it signals after every commit
// that appended events, on any node.
func (db *DB) Notify() (<-chan struct{}, func()) { return db.waiters.Notify() }
