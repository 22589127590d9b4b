package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// The store gives the pages its deletions free back to the file system.
// Its file uses incremental auto-vacuum: SQLite keeps the freed pages on
// the file's free list until PRAGMA incremental_vacuum moves the pages in
// use at the end of the file into them and cuts the end off. Pruning the
// change log and deleting unattached web chat uploads (the store's bulk
// deletions) are followed by such steps, which also give back what smaller
// deletions (expired sessions) freed since. In WAL mode the cut takes
// effect in the main file at the checkpoint that copies it there; the
// store runs one (PASSIVE: it waits for no reader) after the last step.
//
// A file created before the store used auto-vacuum (auto_vacuum NONE)
// needs a full VACUUM to change mode, which rewrites every page in use
// while every write waits. Open does it when the pages in use come to at
// most autoVacuumConvertMax (about 1.2 s for 45 MiB on a shared 2-core
// machine, WAL checkpoint included), and so does the VACUUM after sealing
// clear-text secrets (secrets.go), whatever the size. A larger file keeps
// reusing its free pages without giving them back, and Open says at Info
// level how to convert it by hand, the engine stopped; it converts itself
// at a later start once pruning has brought its pages in use under the
// bound.

// autoVacuumConvertMax bounds the bytes in use of a file Open converts to
// incremental auto-vacuum.
const autoVacuumConvertMax = 64 << 20

// freePagesStep bounds the free pages one step gives back (2 MiB of 4 KiB
// pages: 10 to 35 ms on a shared 2-core machine), so a write waits behind
// at most one step.
const freePagesStep = 512

// convertAutoVacuum converts a file without auto-vacuum to incremental
// auto-vacuum when its pages in use are at most db.convertMax bytes, and
// otherwise logs how to convert it.
func (db *DB) convertAutoVacuum(ctx context.Context) error {
	var mode, pages, free, pageSize int64
	err := db.exclusive(ctx, func(ctx context.Context, c *sql.Conn) error {
		return c.QueryRowContext(ctx, `SELECT (SELECT auto_vacuum FROM pragma_auto_vacuum), (SELECT page_count FROM pragma_page_count),
			(SELECT freelist_count FROM pragma_freelist_count), (SELECT page_size FROM pragma_page_size)`).Scan(&mode, &pages, &free, &pageSize)
	})
	if err != nil {
		return fmt.Errorf("read auto-vacuum mode: %w", err)
	}
	if mode != 0 {
		return nil // incremental, or FULL set by hand: both give pages back
	}
	used := (pages - free) * pageSize
	if used > db.convertMax {
		db.Logger.Info("the store's file predates incremental auto-vacuum and is too large to convert at start: "+
			"it reuses the pages pruning frees but does not give them back to the file system; "+
			"to convert it, stop the engine and run: sqlite3 <file> 'PRAGMA auto_vacuum = INCREMENTAL; VACUUM'",
			"file", db.Path, "bytes_in_use", used, "bytes", pages*pageSize, "convert_at_start_up_to", db.convertMax)
		return nil
	}
	began := time.Now()
	err = db.exclusive(ctx, func(ctx context.Context, c *sql.Conn) error {
		for _, q := range []string{`PRAGMA auto_vacuum = INCREMENTAL`, `VACUUM`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
			if _, err := c.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("convert to incremental auto-vacuum: %w", err)
	}
	db.Logger.Info("converted the store's file to incremental auto-vacuum", "file", db.Path,
		"bytes_before", pages*pageSize, "bytes_in_use", used, "took", time.Since(began))
	return nil
}

// giveBackPages gives the file's free pages back to the file system in
// steps of freePagesStep, each alone on the writer with the writes queued
// meanwhile committed between them, then checkpoints the WAL so the main
// file shrinks now. On a file without incremental auto-vacuum a step gives
// nothing back, and it stops there; when ctx ends it stops too, and the
// next call gives back the rest.
func (db *DB) giveBackPages(ctx context.Context) error {
	gave := false
	for ctx.Err() == nil {
		var before, after int64
		err := db.exclusive(ctx, func(ctx context.Context, c *sql.Conn) error {
			if err := c.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&before); err != nil || before == 0 {
				return err
			}
			if _, err := c.ExecContext(ctx, `PRAGMA incremental_vacuum(`+strconv.Itoa(freePagesStep)+`)`); err != nil {
				return err
			}
			return c.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&after)
		})
		if err != nil {
			return fmt.Errorf("give back free pages: %w", err)
		}
		if before == 0 || after >= before {
			break
		}
		gave = true
	}
	if !gave {
		return nil
	}
	err := db.exclusive(ctx, func(ctx context.Context, c *sql.Conn) error {
		_, err := checkpoint(ctx, c)
		return err
	})
	if err != nil {
		return fmt.Errorf("after giving back free pages: %w", err)
	}
	return nil
}

// DeleteOrphanWebchatUploads deletes the uploads no message carries that
// were made before cutoff, and the bytes nothing else uses, returns how
// many uploads it deleted and gives the pages they held back to the file
// system.
func (db *DB) DeleteOrphanWebchatUploads(ctx context.Context, cutoff time.Time) (int, error) {
	n, err := db.writes.DeleteOrphanWebchatUploads(ctx, cutoff)
	if err != nil || n == 0 {
		return n, err
	}
	return n, db.giveBackPages(ctx)
}
