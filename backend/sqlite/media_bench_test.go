package sqlite_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"switchboard/backend"
	"switchboard/backend/secret"
)

// BenchmarkMediaStorage keeps b.N distinct 1 MiB files, each also arriving
// a second time in another conversation (the same picture sent twice), and
// reports the database file's growth per MiB of distinct content once the
// store is closed (WAL checkpointed): the bytes on disk a MiB of media
// costs, the copy costing only its description.
//
//	go test -run '^$' -bench MediaStorage -benchtime 100x ./backend/sqlite
//
// It stays SQLite-only: it measures the growth of the store's own file.
func BenchmarkMediaStorage(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "engine.db")
	key := secret.MustNew()
	db := MustOpenDBWith(b, path, key)
	var convs [2]string
	for i := range convs {
		m, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: fmt.Sprint("c", i), ExternalID: fmt.Sprint("m", i), Text: "photos"})
		if err != nil {
			b.Fatal(err)
		}
		convs[i] = m.ConversationID
	}
	db.Close()
	before := fileSize(b, path)
	db = MustOpenDBWith(b, path, key)
	const size = 1 << 20
	data := make([]byte, size)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rand.Read(data)
		for _, c := range convs {
			if err := db.PutMedia(ctx, &backend.MediaFile{ConversationID: c, Name: "photo.jpg", Type: "image/jpeg"}, data); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	db.Close()
	b.ReportMetric(float64(fileSize(b, path)-before)/float64(b.N), "disk-bytes/MiB")
}

func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}
