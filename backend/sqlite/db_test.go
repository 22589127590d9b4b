package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"switchboard/backend/secret"
	"switchboard/backend/sqlite"
	"switchboard/backend/storetest"
)

// TestConformance runs the store conformance suite (backend/storetest) on
// SQLite; backend/postgres runs the same suite on PostgreSQL.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Name: "sqlite",
		New:  func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "engine.db") },
		Open: func(tb testing.TB, path string, o storetest.Options) (storetest.Store, error) {
			db := sqlite.NewDB(path)
			db.PasswordCost, db.Now, db.SessionIdle, db.SessionMaxAge = 4, o.Now, o.SessionIdle, o.SessionMaxAge
			if o.Key != nil {
				db.Secrets = o.Key
			}
			if err := db.Open(context.Background()); err != nil {
				return nil, err
			}
			return db, nil
		},
		Rows: func(tb testing.TB, s storetest.Store, table string) int {
			n, err := s.(*sqlite.DB).CountRows(context.Background(), table)
			if err != nil {
				tb.Fatal(err)
			}
			return n
		},
	})
}

// MustOpenDB opens a store in a new temporary directory, with a new secret
// key, and closes it at cleanup.
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

// A store opened while another process holds the file's lock (an engine
// starting up, recovering its log after a crash) waits for it rather than
// failing: every setting applied when a connection opens runs after its
// busy timeout.
func TestOpen_WaitsForAnotherProcessesLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "engine.db")
	key := secret.MustNew()
	MustOpenDBWith(t, path, key).Close()
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=locking_mode(EXCLUSIVE)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	// In exclusive locking mode a write keeps the file locked until the
	// connection closes.
	if _, err := other.Exec(`CREATE TABLE held (x)`); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		other.Close()
	}()
	db := sqlite.NewDB(path)
	db.PasswordCost = 4
	db.Secrets = key
	if err := db.Open(context.Background()); err != nil {
		t.Fatalf("open while another process held the lock for 300 ms: %v", err)
	}
	db.Close()
}
