package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

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
