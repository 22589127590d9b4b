// Package sqlite implements backend.Store on SQLite (modernc.org/sqlite,
// pure Go). It holds every SQL statement of the engine.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migration/*.sql
var migrationFS embed.FS

var _ backend.Store = (*DB)(nil)

// DB is the engine's store on one SQLite file. Writes go through a single
// connection (SQLite has one writer anyway) whose writer batches concurrent
// transactions into one commit (writer.go), so transactions never fight
// for the lock and event sequences are committed in order; reads use a
// pool.
type DB struct {
	// Path is the database file.
	Path string
	// Now is the clock; tests replace it.
	Now func() time.Time
	// PasswordCost is the bcrypt cost for new passwords.
	PasswordCost int
	// MaxReaders bounds the reader pool (default 8); each open connection
	// keeps its own page cache. Idle readers close after a minute.
	MaxReaders int
	// SessionMaxAge and SessionIdle end sessions at an absolute time after
	// sign-in and after a time without use (DefaultSessionMaxAge and
	// DefaultSessionIdle when zero).
	SessionMaxAge, SessionIdle time.Duration
	// Secrets seals channel configurations, web chat keys and flow HTTP
	// headers before they are written (backend/secret). Without it those
	// secrets can be neither stored nor read.
	Secrets backend.Sealer
	// Synchronous is SQLite's synchronous setting for the write connection:
	// "FULL" (the default: a commit returns once the WAL is on disk, so an
	// acknowledged write survives power loss), "NORMAL" (a power loss may
	// lose the last commits, never corrupts) or "OFF". See BENCHMARKS.md
	// for what each costs.
	Synchronous string
	// Logger receives what the store reports on its own (default
	// slog.Default()).
	Logger *slog.Logger

	// convertMax bounds the bytes in use of a file Open converts to
	// incremental auto-vacuum (autoVacuumConvertMax; tests lower it).
	convertMax int64

	w      *sql.DB // the single write connection, owned by writer
	writer *writer
	ckpt   *checkpointer
	r      *reader // the read pool

	dummy storekit.Dummy

	waiters storetx.Waiters
	// writes are the service methods storetx implements once for both
	// stores, run in this store's transactions (run).
	writes
}

// writes names storetx.Writes for embedding without an exported field.
type writes = storetx.Writes

// NewDB returns a DB for the file at path; call Open before use.
func NewDB(path string) *DB {
	db := &DB{Path: path, Now: time.Now, PasswordCost: 10, convertMax: autoVacuumConvertMax}
	db.writes = storetx.Writes{Update: db.run, Lifetimes: db.lifetimes, Secrets: db.secrets}
	return db
}

// dsn returns the connection string with the pragmas every connection needs.
func dsn(path, synchronous, extra string) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	// The driver sets _busy_timeout before anything else it applies
	// (auto_vacuum included), so no setting fails at once on a lock.
	q.Add("_busy_timeout", "10000")
	q.Add("_pragma", "synchronous("+synchronous+")")
	q.Add("_pragma", "foreign_keys(1)")
	s := "file:" + path + "?" + q.Encode()
	if extra != "" {
		s += "&" + extra
	}
	return s
}

// Open opens the file, applies pending migrations and readies both pools.
func (db *DB) Open(ctx context.Context) (err error) {
	if db.Path == "" {
		return fmt.Errorf("open store: path required")
	}
	if db.Now == nil {
		db.Now = time.Now
	}
	if db.Logger == nil {
		db.Logger = slog.Default()
	}
	syncMode, err := synchronousMode(db.Synchronous)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	if err := PrivateFiles(db.Path); err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	// secure_delete zeroes what a write frees, so an old copy of a secret
	// does not linger in the file's free space. temp_store(MEMORY) keeps
	// the statement journal of each caller's savepoint in memory: it only
	// serves a rollback within the open transaction, and written to a
	// temporary file it cost a system call per page. _auto_vacuum, which
	// the driver applies before the pragmas, makes a new file give freed
	// pages back (vacuum.go): it must precede journal_mode(WAL), which
	// writes the first page and fixes the mode; on an existing file it
	// changes nothing. The checkpointer (checkpoint.go), not the writer's
	// commits, copies the log into the file; when the log starts over
	// after one transaction made it larger than its usual bound, it is
	// cut back to that bound (journal_size_limit).
	writer := fmt.Sprintf("_auto_vacuum=INCREMENTAL&_pragma=secure_delete(ON)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(%d)", walLimitBytes)
	if db.w, err = sql.Open("sqlite", dsn(db.Path, syncMode, writer)); err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetConnMaxIdleTime(0)
	conn, err := db.w.Conn(ctx)
	if err != nil {
		db.w.Close()
		return fmt.Errorf("open store: %w", err)
	}
	db.writer = newWriter(db, conn)
	ck, err := sql.Open("sqlite", dsn(db.Path, syncMode, ""))
	if err != nil {
		db.closeWriter()
		return fmt.Errorf("open store: %w", err)
	}
	ck.SetMaxOpenConns(1)
	ck.SetConnMaxIdleTime(0)
	db.ckpt = newCheckpointer(db, ck)
	fail := func(err error) error {
		db.closeWriter()
		return fmt.Errorf("open store: %w", err)
	}
	if err := db.migrate(ctx); err != nil {
		return fail(err)
	}
	if err := db.openSecrets(ctx); err != nil {
		return fail(err)
	}
	if err := db.convertAutoVacuum(ctx); err != nil {
		return fail(err)
	}
	// Readers never write, so their synchronous setting does not matter.
	pool, err := sql.Open("sqlite", dsn(db.Path, syncMode, ""))
	if err != nil {
		return fail(err)
	}
	if db.MaxReaders <= 0 {
		db.MaxReaders = 8
	}
	// Every reader stays open while it is in use within a minute: closed
	// and reopened under load, each would apply its pragmas and prepare
	// every statement again.
	pool.SetMaxOpenConns(db.MaxReaders)
	pool.SetMaxIdleConns(db.MaxReaders)
	pool.SetConnMaxIdleTime(time.Minute)
	db.r = &reader{DB: pool, stmts: newStmtCache(pool)}
	return nil
}

// synchronousMode checks a Synchronous setting; empty means FULL.
func synchronousMode(s string) (string, error) {
	switch s = strings.ToUpper(s); s {
	case "":
		return "FULL", nil
	case "FULL", "NORMAL", "OFF", "EXTRA":
		return s, nil
	}
	return "", fmt.Errorf("synchronous must be FULL, NORMAL, OFF or EXTRA, not %q", s)
}

// closeWriter stops the writer and closes the write connection. The
// stopped writer stays in place and refuses later work, so a write racing
// Close gets EUnavailable.
func (db *DB) closeWriter() error {
	if db.ckpt != nil {
		db.ckpt.close()
	}
	if db.writer == nil || !db.writer.close() {
		return nil
	}
	db.writer.conn.Close()
	return db.w.Close()
}

// Close closes both pools.
func (db *DB) Close() error {
	var err error
	if db.r != nil {
		db.r.stmts.close()
		err = db.r.Close()
	}
	if e := db.closeWriter(); err == nil {
		err = e
	}
	return err
}

// migrate applies, in file-name order, every embedded migration not yet
// recorded, each in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	err := db.update(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.update(ctx, func(tx *Tx) error { return db.migrateFile(ctx, tx, name) }); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) migrateFile(ctx context.Context, tx *Tx, name string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	buf, err := fs.ReadFile(migrationFS, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, name, formatTime(db.Now()))
	return err
}

// AppendEvent adds an event carrying v (marshalled to JSON) to the log.
func (tx *Tx) AppendEvent(ctx context.Context, typ, entityID string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("marshal event %s: %w", typ, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (type, entity_id, data, created_at) VALUES (?, ?, ?, ?)`,
		typ, entityID, string(data), formatTime(tx.now)); err != nil {
		return fmt.Errorf("append event %s: %w", typ, err)
	}
	tx.events++
	return nil
}

// run runs fn in a write transaction through the store's steps.
func (db *DB) run(ctx context.Context, fn func(storetx.Steps) error) error {
	return db.update(ctx, func(tx *Tx) error { return fn(steps{tx}) })
}

// Reader returns the read pool for packages that query their own tables.
func (db *DB) Reader() *sql.DB { return db.r.DB }

// wake signals every Notify subscriber without blocking.
func (db *DB) wake() { db.waiters.Wake() }

// Notify implements backend.EventService.
func (db *DB) Notify() (<-chan struct{}, func()) { return db.waiters.Notify() }

// timeFormat has a fixed width so stored times sort as text.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		t, _ = time.Parse(time.RFC3339Nano, s)
	}
	return t
}
