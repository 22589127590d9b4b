package sqlite_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"switchboard/backend/sqlite"
)

// fillLog commits n transactions of a 4 KB row each: about a page each
// in the log.
func fillLog(t *testing.T, db *sqlite.DB, n int) {
	t.Helper()
	ctx := context.Background()
	if err := db.Update(ctx, func(tx *sqlite.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS filler (body TEXT NOT NULL)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("x", 4000)
	for range n {
		if err := db.Update(ctx, func(tx *sqlite.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO filler (body) VALUES (?)`, body)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// waitCheckpointed waits until the checkpointer has run after what was
// committed so far.
func waitCheckpointed(t *testing.T, db *sqlite.DB, runs int64) sqlite.CheckpointStats {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if s := db.CheckpointerStats(); s.Runs > runs {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("the checkpointer did not run: %+v", db.CheckpointerStats())
		}
	}
}

// The writer's commits never copy the log into the file themselves: a
// commit that did made its batch, and every batch behind it, wait.
func TestCheckpoint_WriterLeavesItToTheCheckpointer(t *testing.T) {
	db := MustOpenDB(t)
	v, err := db.WriterPragma(context.Background(), "wal_autocheckpoint")
	if err != nil || v != "0" {
		t.Fatalf("the writer's wal_autocheckpoint = %q (%v), want 0", v, err)
	}
}

// Shortly after commits, what they wrote is in the database file, not
// only in the log, although the writer never checkpoints (and the 500
// pages here are fewer than SQLite's own threshold of 1,000).
func TestCheckpoint_CommitsReachTheFile(t *testing.T) {
	db := MustOpenDB(t)
	before := db.CheckpointerStats().Runs
	size := func() int64 { return fileSize(t, db.Path) }
	start := size()
	fillLog(t, db, 500)
	waitCheckpointed(t, db, before)
	for deadline := time.Now().Add(10 * time.Second); size()-start < 500*4000; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the file grew %d bytes after 500 rows of 4,000 bytes: the log was not copied into it (%+v)", size()-start, db.CheckpointerStats())
		}
	}
	if s := db.CheckpointerStats(); s.Failures != 0 || s.ByWriter != 0 {
		t.Fatalf("checkpointer %+v, want no failures and no checkpoint by the writer under its limit", s)
	}
}

// The log starts over instead of growing: a passive checkpoint, racing
// the writer's appends, seldom leaves every frame copied when a write
// begins, so past its limit the writer checkpoints once itself. Without
// that, these 3,000 commits leave a log of about 50 MB.
func TestCheckpoint_LogStartsOver(t *testing.T) {
	db := MustOpenDB(t)
	db.SetWALLimit(256)
	fillLog(t, db, 3000)
	if wal, limit := fileSize(t, db.Path+"-wal"), int64(8<<20); wal > limit {
		t.Fatalf("after 3,000 commits the log is %d bytes, want at most %d with a limit of 256 pages: it did not start over (%+v)",
			wal, limit, db.CheckpointerStats())
	}
	if s := db.CheckpointerStats(); s.Failures != 0 || s.ByWriter == 0 {
		t.Fatalf("checkpointer %+v, want no failures and checkpoints by the writer", s)
	}
}

// One large transaction makes the log larger than its bound; once the log
// starts over it is cut back to the bound instead of keeping that size.
func TestCheckpoint_LargeLogCutBack(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	fillLog(t, db, 1)
	body := strings.Repeat("y", 4000)
	if err := db.Update(ctx, func(tx *sqlite.Tx) error {
		for range 6000 { // about 24 MB in one transaction
			if _, err := tx.ExecContext(ctx, `INSERT INTO filler (body) VALUES (?)`, body); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	walSize := func() int64 { return fileSize(t, db.Path+"-wal") }
	if n := walSize(); n < 20<<20 {
		t.Fatalf("the log holds %d bytes after the large transaction, want over 20 MiB", n)
	}
	limit := int64(16<<20 + 64<<10) // the bound, and a few frames' headers
	for deadline := time.Now().Add(20 * time.Second); walSize() > limit; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the log keeps %d bytes, want at most %d once it started over (%+v)", walSize(), limit, db.CheckpointerStats())
		}
		fillLog(t, db, 1) // writes let the log start over
	}
}
