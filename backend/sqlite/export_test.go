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
