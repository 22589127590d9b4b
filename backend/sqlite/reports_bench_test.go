package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/sqlite"
)

// yearTasks is how many tasks the report benchmarks read.
const yearTasks = 1_000_000

// yearOfTasks returns a store file holding a year of tasks (2025) in four
// queues and on three channels, handled by 50 agents: most answered within
// 0 to 60 s and handled for 1 to 10 minutes, one in ten abandoned. The
// rows are written in one statement (the routing engine would take hours
// to make a million tasks); the store's migrations and indexes are the
// real ones.
func yearOfTasks(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "year.db")
	db := sqlite.NewDB(path)
	if err := db.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	for i, q := range []string{"Support", "Billing", "Sales", "VIP"} {
		if _, err := raw.Exec(`INSERT INTO routing_queues (id, name, data, created_at, updated_at) VALUES (?, ?, ?, '', '')`,
			fmt.Sprintf("q%d", i), q, fmt.Sprintf(`{"id":"q%d","name":%q,"slaSeconds":%d}`, i, q, 20+10*i)); err != nil {
			b.Fatal(err)
		}
	}
	// Times are written in the store's fixed-width format.
	_, err = raw.Exec(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1),
			t(i, created, wait, handle, gone) AS (
				SELECT i, 1735689600 + (i * 31536 / 1000), (i * 7919) % 61, 60 + (i * 104729) % 541, i % 10 = 0 FROM n)
			INSERT INTO routing_tasks (id, channel, attributes, priority, conversation_id, state, queue_id, worker_id,
				created_at, assigned_at, answered_at, ended_at, updated_at, wait_ms, handle_ms)
			SELECT printf('tk_%07d', i), CASE i % 3 WHEN 0 THEN 'voice' WHEN 1 THEN 'chat' ELSE 'email' END, '{}', 0, '',
				CASE WHEN gone THEN 'canceled' ELSE 'completed' END, 'q' || (i % 4), CASE WHEN gone THEN '' ELSE 'wk_' || (i % 50) END,
				strftime('%Y-%m-%dT%H:%M:%S.000000000Z', created, 'unixepoch'),
				CASE WHEN gone THEN '' ELSE strftime('%Y-%m-%dT%H:%M:%S.000000000Z', created + wait, 'unixepoch') END,
				CASE WHEN gone THEN '' ELSE strftime('%Y-%m-%dT%H:%M:%S.000000000Z', created + wait, 'unixepoch') END,
				strftime('%Y-%m-%dT%H:%M:%S.000000000Z', created + wait + handle, 'unixepoch'),
				strftime('%Y-%m-%dT%H:%M:%S.000000000Z', created + wait + handle, 'unixepoch'),
				CASE WHEN gone THEN NULL ELSE 1000 * wait END, CASE WHEN gone THEN NULL ELSE 1000 * handle END
			FROM t`, yearTasks)
	if err == nil {
		_, err = raw.Exec(`ANALYZE`)
	}
	if err == nil {
		// As the store's own checkpoints would have by then.
		_, err = raw.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	}
	if err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkReport_MonthOfAYear reports one month (by day; by day and
// agent) out of a million tasks.
func BenchmarkReport_MonthOfAYear(b *testing.B) {
	path := yearOfTasks(b)
	db := sqlite.NewDB(path)
	if err := db.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	from := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, by := range []string{backend.ReportByNone, backend.ReportByAgent, backend.ReportByQueue} {
		b.Run("by="+by, func(b *testing.B) {
			var rows []backend.ReportRow
			for b.Loop() {
				var err error
				if rows, err = db.Report(context.Background(), backend.ReportQuery{From: from, To: from.AddDate(0, 1, 0), By: by}); err != nil {
					b.Fatal(err)
				}
			}
			var n int64
			for _, r := range rows {
				n += r.Volume
			}
			b.ReportMetric(float64(n), "tasks")
		})
	}
	b.Run("year-by-week", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Report(context.Background(), backend.ReportQuery{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
				To: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Week: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkQueueHistory_HourOfAYear builds the supervisor's chart of the
// last hour (a sample a minute, every queue) at the end of a year of a
// million tasks, as a supervisor opening the view on New Year's Eve would.
func BenchmarkQueueHistory_HourOfAYear(b *testing.B) {
	path := yearOfTasks(b)
	db := sqlite.NewDB(path)
	if err := db.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var at []time.Time
	for i := 60; i >= 0; i-- {
		at = append(at, end.Add(-time.Duration(i)*time.Minute))
	}
	for b.Loop() {
		if _, err := db.QueueHistory(context.Background(), at, time.UTC); err != nil {
			b.Fatal(err)
		}
	}
}
