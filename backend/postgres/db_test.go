package postgres_test

import (
	"context"
	"os"
	"testing"

	"switchboard/backend/postgres"
	"switchboard/backend/postgres/pgtest"
	"switchboard/backend/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// pgBackend opens stores on databases of the test binary's PostgreSQL server.
var pgBackend = storetest.Backend{
	Name: "postgres",
	New:  pgtest.NewDatabase,
	Open: func(tb testing.TB, url string, o storetest.Options) (storetest.Store, error) {
		db := postgres.NewDB(url)
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
		n, err := s.(*postgres.DB).CountRows(context.Background(), table)
		if err != nil {
			tb.Fatal(err)
		}
		return n
	},
}

// TestConformance runs the store conformance suite (backend/storetest) on
// PostgreSQL; backend/sqlite runs the same suite on SQLite.
func TestConformance(t *testing.T) { storetest.Run(t, pgBackend) }
