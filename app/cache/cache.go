// Package cache is the desktop's local SQLite copy of what the agent sees:
// contacts, conversations and messages applied from the engine's change
// feed, full-text search over them, and an outbox of replies written while
// offline. The app reads only from here, so it starts fast and works offline.
package cache

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// schema is applied in order; PRAGMA user_version records how far.
var schema = []string{
	`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
	CREATE TABLE contacts (id TEXT PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL);
	CREATE TABLE conversations (
		id TEXT PRIMARY KEY, contact_id TEXT NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL,
		last_message_at TEXT NOT NULL, unread INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL);
	CREATE INDEX conversations_recent ON conversations (last_message_at);
	CREATE INDEX conversations_contact ON conversations (contact_id);
	CREATE TABLE messages (
		id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, client_id TEXT, created_at TEXT NOT NULL,
		text TEXT NOT NULL, data TEXT NOT NULL);
	CREATE INDEX messages_conversation ON messages (conversation_id, created_at);
	CREATE UNIQUE INDEX messages_client ON messages (client_id) WHERE client_id IS NOT NULL AND id NOT LIKE 'local:%';
	CREATE VIRTUAL TABLE messages_fts USING fts5 (text, content = 'messages', content_rowid = 'rowid');
	-- The index is kept by Go, not triggers: new rows are indexed in bulk at
	-- the end of each write (indexNew), since a per-row trigger makes FTS5
	-- flush its buffer on every statement.
	-- Entities of other event types (users, tasks, …) kept as JSON by type.
	CREATE TABLE entities (type TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (type, id));
	CREATE TABLE outbox (
		client_id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, text TEXT NOT NULL,
		created_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '');`,
	// Routing entities are found by conversation and worker; notes queue too.
	`CREATE INDEX entities_conversation ON entities (type, data ->> '$.conversationId');
	CREATE INDEX entities_worker ON entities (type, data ->> '$.workerId');
	ALTER TABLE outbox ADD COLUMN private INTEGER NOT NULL DEFAULT 0;`,
	// Customer files recently opened, for offline use (media.go).
	`CREATE TABLE media (path TEXT PRIMARY KEY, type TEXT NOT NULL, size INTEGER NOT NULL, data BLOB NOT NULL, used_at TEXT NOT NULL);
	CREATE INDEX media_used ON media (used_at);`,
	// Replies written for an engine the cache no longer follows: kept for
	// the agent to see, never sent.
	`CREATE TABLE held (
		client_id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, contact_name TEXT NOT NULL, channel TEXT NOT NULL,
		text TEXT NOT NULL, private INTEGER NOT NULL, created_at TEXT NOT NULL, held_at TEXT NOT NULL);`,
	// A conversation filled from a snapshot that may have older messages
	// on the engine than the cache holds (loaded when it is opened).
	`ALTER TABLE conversations ADD COLUMN older INTEGER NOT NULL DEFAULT 0;`,
}

// Cache is one local cache file, for one account on one engine.
type Cache struct {
	Path string
	Now  func() time.Time
	// MediaBudget is how many bytes of files the cache keeps; the least
	// recently opened go first (DefaultMediaBudget when zero).
	MediaBudget int64
	db          *sql.DB
}

// Open opens (creating if needed) the cache file at path.
func Open(ctx context.Context, path string) (*Cache, error) {
	q := url.Values{}
	// A 4 MB page cache: enough for the inbox and search; more only grows
	// the desktop's memory as the cache file grows. Statement journals
	// (a multi-row INSERT keeps one to undo itself) stay in memory rather
	// than in a temporary file written page by page.
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)", "foreign_keys(1)", "cache_size(-4000)", "temp_store(MEMORY)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode()+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open cache: %w", err)
	}
	db.SetMaxOpenConns(1) // one writer; the cache is small and local
	c := &Cache{Path: path, Now: time.Now, db: db}
	if err := c.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open cache %s: %w", path, err)
	}
	return c, nil
}

// Close closes the file.
func (c *Cache) Close() error { return c.db.Close() }

func (c *Cache) migrate(ctx context.Context) error {
	var version int
	if err := c.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	for i := version; i < len(schema); i++ {
		tx, err := c.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, schema[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("schema %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// ShrinkMemory gives back the memory SQLite holds for the cache beyond what
// it needs now (after a long catch-up filled its page cache).
func (c *Cache) ShrinkMemory(ctx context.Context) error {
	_, err := c.db.ExecContext(ctx, `PRAGMA shrink_memory`)
	return err
}

// LastSeq is the newest change-feed sequence applied to the cache.
func (c *Cache) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := c.db.QueryRowContext(ctx, `SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'last_seq'`).Scan(&seq)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return seq, err
}

// indexNew adds messages inserted since afterRowID to the full-text index,
// in one statement.
func indexNew(ctx context.Context, tx *sql.Tx, afterRowID int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO messages_fts (rowid, text) SELECT rowid, text FROM messages WHERE rowid > ?`, afterRowID)
	return err
}

func maxRowID(ctx context.Context, tx *sql.Tx) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(rowid), 0) FROM messages`).Scan(&id)
	return id, err
}

const timeFormat = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }
