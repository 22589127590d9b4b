package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/sqlite"
)

// MustOpenDB opens a store on a file in a temp dir and closes it at cleanup.
func MustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	return MustOpenDBAt(tb, filepath.Join(tb.TempDir(), "engine.db"))
}

// MustOpenDBAt opens a store on path, with a new secret key, and closes it
// at cleanup.
func MustOpenDBAt(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	key, err := secret.New()
	if err != nil {
		tb.Fatal(err)
	}
	return MustOpenDBWith(tb, path, key)
}

// MustOpenDBWith opens a store on path with the given secret key (nil for
// none) and closes it at cleanup.
func MustOpenDBWith(tb testing.TB, path string, key *secret.Key) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(path)
	db.PasswordCost = 4
	if key != nil {
		db.Secrets = key
	}
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestDB_MigrationsAreIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "engine.db")
	key, _ := secret.New()
	db := MustOpenDBWith(t, path, key)
	if _, _, err := db.StoreInbound(context.Background(), &backend.InboundMessage{
		Channel: "sms.twilio", Instance: "main", ExternalUserID: "+15550001111", ExternalID: "SM1", Text: "hello",
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2 := MustOpenDBWith(t, path, key)
	seq, err := db2.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if seq != 3 { // contact, message, conversation
		t.Fatalf("last seq after reopen = %d, want 3", seq)
	}
}

func TestDB_NotifyAfterCommit(t *testing.T) {
	db := MustOpenDB(t)
	ch, stop := db.Notify()
	defer stop()
	if _, _, err := db.StoreInbound(context.Background(), &backend.InboundMessage{
		Channel: "telegram", Instance: "bot", ExternalUserID: "42", ExternalID: "1", Text: "hi",
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no notification after a commit that appended events")
	}
}

func TestDB_FeedIdentity(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "engine.db")
	key := secret.MustNew()
	first := MustOpenDBWith(t, path, key)
	id, err := first.FeedIdentity(ctx)
	if err != nil || len(id.EngineID) != 32 || len(id.Epoch) != 16 {
		t.Fatalf("identity %+v, %v", id, err)
	}
	first.Close()
	again, err := MustOpenDBWith(t, path, key).FeedIdentity(ctx)
	if err != nil || again != id {
		t.Fatalf("reopened store has identity %+v, want %+v (%v)", again, id, err)
	}
	other, err := MustOpenDB(t).FeedIdentity(ctx)
	if err != nil || other.EngineID == id.EngineID || other.Epoch == id.Epoch {
		t.Fatalf("a new store has identity %+v, like %+v (%v)", other, id, err)
	}
}
