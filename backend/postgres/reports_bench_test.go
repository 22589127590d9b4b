package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend"
	"switchboard/backend/postgres"
	"switchboard/backend/postgres/pgtest"
)

// yearTasks is how many tasks the report benchmark reads, as on SQLite
// (backend/sqlite's BenchmarkReport_MonthOfAYear).
const yearTasks = 1_000_000

// yearOfTasks returns a store holding a year of tasks (2025) in four queues
// and on three channels, handled by 50 agents, as SQLite's benchmark makes
// them: most answered within 0 to 60 s and handled for 1 to 10 minutes,
// one in ten abandoned. The rows are written in one statement; the store's
// migrations and indexes are the real ones.
func yearOfTasks(b *testing.B) *postgres.DB {
	b.Helper()
	url := pgtest.NewDatabase(b)
	db := postgres.NewDB(url)
	if err := db.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	var queues []string
	for i, q := range []string{"Support", "Billing", "Sales", "VIP"} {
		queues = append(queues, fmt.Sprintf(`INSERT INTO routing_queues (id, name, data) VALUES ('q%d', '%s', '{"id":"q%d","name":"%s","slaSeconds":%d}')`,
			i, q, i, q, 20+10*i))
	}
	tasks := fmt.Sprintf(`INSERT INTO routing_tasks (id, channel, conversation_id, state, queue_id, worker_id, created_at, answered_at, ended_at,
			wait_ms, handle_ms, data)
		SELECT format('tk_%%s', lpad(i::text, 7, '0')), (ARRAY['voice', 'chat', 'email'])[i %% 3 + 1], '',
			CASE WHEN gone THEN 'canceled' ELSE 'completed' END, 'q' || (i %% 4), CASE WHEN gone THEN '' ELSE 'wk_' || (i %% 50) END,
			created, CASE WHEN gone THEN NULL ELSE created + wait * interval '1 second' END,
			created + (wait + handle) * interval '1 second',
			CASE WHEN gone THEN NULL ELSE 1000 * wait END, CASE WHEN gone THEN NULL ELSE 1000 * handle END, '{}'
		FROM (SELECT i, to_timestamp(1735689600 + (i::bigint * 31536 / 1000)) AS created, (i::bigint * 7919) %% 61 AS wait,
			60 + (i::bigint * 104729) %% 541 AS handle, i %% 10 = 0 AS gone FROM generate_series(0, %d - 1) AS i) AS t`, yearTasks)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range append(queues, tasks, `VACUUM ANALYZE routing_tasks`) {
		if _, err := conn.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

// BenchmarkReport_MonthOfAYear reports one month (by day; by day and
// agent; by day and queue) and a year by week out of a million tasks.
func BenchmarkReport_MonthOfAYear(b *testing.B) {
	db := yearOfTasks(b)
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
