package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/sqlite"
)

// storeMessages imports inbound messages first to first+n-1 (their
// external ids), of about 60 bytes of text, in 1,000 conversations, 1,000
// per transaction.
func storeMessages(t *testing.T, db *sqlite.DB, first, n int) {
	t.Helper()
	for j := first; j < first+n; j += 1000 {
		batch := make([]*backend.InboundMessage, min(1000, first+n-j))
		for k := range batch {
			m := j + k
			batch[k] = &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: fmt.Sprint(m % 1000),
				ExternalID: fmt.Sprint(m), Text: strings.Repeat("where is my order ", 3) + fmt.Sprint(m)}
		}
		if _, err := db.ImportInbound(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
}

// pragmaInt reads an integer pragma through the read pool.
func pragmaInt(t *testing.T, db *sqlite.DB, name string) int64 {
	t.Helper()
	var v int64
	if err := db.Reader().QueryRow(`PRAGMA ` + name).Scan(&v); err != nil {
		t.Fatalf("pragma %s: %v", name, err)
	}
	return v
}

// checkpointedSize empties the WAL into the main file and returns the
// main file's size.
func checkpointedSize(t *testing.T, db *sqlite.DB, path string) int64 {
	t.Helper()
	if _, err := db.Reader().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	return fileSize(t, path)
}

func TestAutoVacuum_NewFileIsIncremental(t *testing.T) {
	db := MustOpenDB(t)
	if v, err := db.WriterPragma(context.Background(), "auto_vacuum"); err != nil || v != "2" {
		t.Fatalf("auto_vacuum on a new file = %q, %v; want 2 (incremental)", v, err)
	}
}

func TestPruneEvents_GivesPagesBackToTheFileSystem(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "engine.db")
	db := MustOpenDBAt(t, path)
	storeMessages(t, db, 0, 3000)
	before := checkpointedSize(t, db, path)

	res, err := db.PruneEvents(ctx, backend.PruneRequest{Now: time.Now().Add(48 * time.Hour), Grace: time.Minute, Retention: 24 * time.Hour})
	if err != nil || res.Deleted < 3000 {
		t.Fatalf("prune: %+v %v", res, err)
	}
	// The store's own checkpoint at the end of pruning already shrank the
	// main file; a full one changes nothing more.
	pruned := fileSize(t, path)
	after := checkpointedSize(t, db, path)
	t.Logf("main file: %d bytes before pruning, %d after pruning, %d after a full checkpoint", before, pruned, after)
	if after > before*2/3 {
		t.Errorf("main file %d bytes after pruning %d events and a full checkpoint, %d before; want at most two thirds",
			after, res.Deleted, before)
	}
	if pruned != after {
		t.Errorf("main file %d bytes when pruning ended, %d after a full checkpoint; want the same", pruned, after)
	}
	if free := pragmaInt(t, db, "freelist_count"); free > 0 {
		t.Errorf("freelist_count = %d after pruning; want 0", free)
	}

	// The store keeps working on the smaller file.
	storeMessages(t, db, 3000, 1000)
	if n, err := db.CountRows(ctx, "messages"); err != nil || n != 4000 {
		t.Fatalf("messages = %d, %v; want 4000", n, err)
	}
	if r, err := db.Reader().Query(`PRAGMA integrity_check`); err != nil {
		t.Fatal(err)
	} else {
		var msgs []string
		for r.Next() {
			var s string
			if err := r.Scan(&s); err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, s)
		}
		r.Close()
		if len(msgs) != 1 || msgs[0] != "ok" {
			t.Fatalf("integrity_check: %v", msgs)
		}
	}
}

// makeOldFile leaves at path a store's file with data in it, as made
// before the store used auto-vacuum (auto_vacuum NONE).
func makeOldFile(t *testing.T, path string, messages int) {
	t.Helper()
	db := MustOpenDBWith(t, path, nil)
	storeMessages(t, db, 0, messages)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	for _, q := range []string{`PRAGMA auto_vacuum = NONE`, `VACUUM`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var v int
	if err := raw.QueryRow(`PRAGMA auto_vacuum`).Scan(&v); err != nil || v != 0 {
		t.Fatalf("old file's auto_vacuum = %d, %v; want 0", v, err)
	}
}

// openLogged opens a store on path without a secret key, converting a
// file without auto-vacuum when its pages in use come to at most
// convertMax bytes, with its log in the returned buffer.
func openLogged(t *testing.T, path string, convertMax int64) (*sqlite.DB, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	db := sqlite.NewDB(path)
	db.PasswordCost = 4
	db.Logger = slog.New(slog.NewTextHandler(&log, nil))
	db.SetConvertMax(convertMax)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, &log
}

func TestAutoVacuum_SmallOldFileConvertedOnOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "engine.db")
	makeOldFile(t, path, 1000)
	db, log := openLogged(t, path, 64<<20)
	if v, err := db.WriterPragma(context.Background(), "auto_vacuum"); err != nil || v != "2" {
		t.Fatalf("auto_vacuum after opening an old file = %q, %v; want 2 (incremental)", v, err)
	}
	if !strings.Contains(log.String(), "converted the store's file to incremental auto-vacuum") {
		t.Errorf("the log does not tell of the conversion:\n%s", log)
	}
	if n, err := db.CountRows(context.Background(), "messages"); err != nil || n != 1000 {
		t.Fatalf("messages after the conversion = %d, %v; want 1000", n, err)
	}
}

func TestAutoVacuum_LargeOldFileKeptAndLogged(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "engine.db")
	makeOldFile(t, path, 1000)
	db, log := openLogged(t, path, 1<<20)
	if v, err := db.WriterPragma(ctx, "auto_vacuum"); err != nil || v != "0" {
		t.Fatalf("auto_vacuum after opening a large old file = %q, %v; want 0 (left as it was)", v, err)
	}
	if !strings.Contains(log.String(), "level=INFO") || !strings.Contains(log.String(), "PRAGMA auto_vacuum = INCREMENTAL; VACUUM") {
		t.Fatalf("the log does not say how to convert the file:\n%s", log)
	}
	// Pruning still works; the free pages stay in the file for reuse.
	size := checkpointedSize(t, db, path)
	res, err := db.PruneEvents(ctx, backend.PruneRequest{Now: time.Now().Add(48 * time.Hour), Grace: time.Minute, Retention: 24 * time.Hour})
	if err != nil || res.Deleted == 0 {
		t.Fatalf("prune: %+v %v", res, err)
	}
	if after := checkpointedSize(t, db, path); after != size {
		t.Errorf("main file %d bytes after pruning, %d before; want it unchanged", after, size)
	}
	if free := pragmaInt(t, db, "freelist_count"); free == 0 {
		t.Error("freelist_count = 0 after pruning; want the freed pages kept for reuse")
	}
}

func TestDeleteOrphanWebchatUploads_GivesPagesBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "engine.db")
	db := MustOpenDBAt(t, path)
	empty := checkpointedSize(t, db, path)
	q := backend.UploadQuota{VisitorBytes: 64 << 20, TotalBytes: 64 << 20, Since: time.Now().Add(-time.Hour)}
	for i := range 4 {
		data := bytes.Repeat([]byte{byte(i + 1)}, 1<<20)
		if err := db.PutWebchatUpload(ctx, fmt.Sprint("up", i), "site", "visitor", "left.bin", "application/octet-stream", data, q); err != nil {
			t.Fatal(err)
		}
	}
	full := checkpointedSize(t, db, path)
	if n, err := db.DeleteOrphanWebchatUploads(ctx, time.Now().Add(time.Hour)); err != nil || n != 4 {
		t.Fatalf("deleted %d orphans, %v; want 4", n, err)
	}
	after := checkpointedSize(t, db, path)
	t.Logf("main file: %d bytes empty, %d with 4 MiB of uploads, %d after deleting them", empty, full, after)
	if after > empty+(full-empty)/8 {
		t.Errorf("main file %d bytes after deleting 4 MiB of uploads, %d before them, %d with them", after, empty, full)
	}
	if free := pragmaInt(t, db, "freelist_count"); free > 0 {
		t.Errorf("freelist_count = %d after deleting the uploads; want 0", free)
	}
}
