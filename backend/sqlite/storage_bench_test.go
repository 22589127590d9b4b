package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
)

// BenchmarkStoragePerMessage stores 100,000 inbound messages of about 60
// bytes of text in 2,000 conversations and reports the database's bytes
// per stored message before and after the change log is pruned (every
// event past the retention horizon): the main file and the pages in use
// (after a full checkpoint), and the WAL as pruning leaves it. Pruning
// gives the freed pages back to the file system, so the file shrinks to
// about the pages in use; prune-s includes that.
func BenchmarkStoragePerMessage(b *testing.B) {
	ctx := context.Background()
	const messages = 100_000
	for i := 0; i < b.N; i++ {
		path := filepath.Join(b.TempDir(), "engine.db")
		db := MustOpenDBAt(b, path)
		for j := 0; j < messages/1000; j++ {
			batch := make([]*backend.InboundMessage, 1000)
			for k := range batch {
				n := j*1000 + k
				batch[k] = &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: fmt.Sprint(n % 2000),
					ExternalID: fmt.Sprint(n), Text: strings.Repeat("where is my order ", 3) + fmt.Sprint(n)}
			}
			if _, err := db.ImportInbound(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		file, used := dbBytes(b, db)
		began := time.Now()
		res, err := db.PruneEvents(ctx, backend.PruneRequest{Now: time.Now().Add(48 * time.Hour), Grace: time.Minute, Retention: 24 * time.Hour})
		if err != nil || res.Deleted == 0 {
			b.Fatalf("prune: %+v %v", res, err)
		}
		took := time.Since(began)
		wal := fileSize(b, path+"-wal")
		_, pruned := dbBytes(b, db)
		b.ReportMetric(float64(file)/messages, "file-B/msg")
		b.ReportMetric(float64(used)/messages, "used-B/msg")
		b.ReportMetric(float64(fileSize(b, path))/messages, "pruned-file-B/msg")
		b.ReportMetric(float64(pruned)/messages, "pruned-used-B/msg")
		b.ReportMetric(float64(wal)/messages, "pruned-wal-B/msg")
		b.ReportMetric(float64(res.Deleted), "events-pruned")
		b.ReportMetric(took.Seconds(), "prune-s")
	}
}

// dbBytes checkpoints the WAL and returns the file's size and the bytes of
// its pages in use.
func dbBytes(b *testing.B, db interface{ Reader() *sql.DB }) (file, used int64) {
	b.Helper()
	r := db.Reader()
	if _, err := r.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	var pages, free, size int64
	if err := r.QueryRow(`SELECT (SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count),
		(SELECT page_size FROM pragma_page_size)`).Scan(&pages, &free, &size); err != nil {
		b.Fatal(err)
	}
	return pages * size, (pages - free) * size
}
