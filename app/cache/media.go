package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// DefaultMediaBudget is how many bytes of customer files the cache keeps
// for offline use unless Cache.MediaBudget says otherwise.
const DefaultMediaBudget = 256 << 20

// Media returns a cached file (by its engine path, such as /media/{id})
// and marks it recently used; ok is false when it is not cached.
func (c *Cache) Media(ctx context.Context, path string) (typ string, data []byte, ok bool, err error) {
	err = c.db.QueryRowContext(ctx, `UPDATE media SET used_at = ? WHERE path = ? RETURNING type, data`, formatTime(c.Now()), path).Scan(&typ, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("cached file: %w", err)
	}
	return typ, data, true, nil
}

// PutMedia keeps a file the engine served, then drops the least recently
// used files until the cache holds at most its budget. A file larger than
// the whole budget is not kept.
func (c *Cache) PutMedia(ctx context.Context, path, typ string, data []byte) error {
	budget := c.MediaBudget
	if budget <= 0 {
		budget = DefaultMediaBudget
	}
	if int64(len(data)) > budget {
		return nil
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO media (path, type, size, data, used_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (path) DO UPDATE SET type = excluded.type, size = excluded.size, data = excluded.data, used_at = excluded.used_at`,
		path, typ, len(data), data, formatTime(c.Now())); err != nil {
		return fmt.Errorf("cache file: %w", err)
	}
	// Keep the newest files whose sizes add up to the budget.
	if _, err := tx.ExecContext(ctx, `DELETE FROM media WHERE path IN (
		SELECT path FROM (SELECT path, SUM(size) OVER (ORDER BY used_at DESC, path) AS total FROM media) WHERE total > ?)`, budget); err != nil {
		return fmt.Errorf("trim cached files: %w", err)
	}
	return tx.Commit()
}

// DropMedia forgets a cached file (the engine no longer lets the user
// read it).
func (c *Cache) DropMedia(ctx context.Context, path string) error {
	_, err := c.db.ExecContext(ctx, `DELETE FROM media WHERE path = ?`, path)
	return err
}
