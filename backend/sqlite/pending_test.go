package sqlite_test

import (
	"context"
	"strings"
	"testing"

	"switchboard/backend/sqlite"
)

// The queries that find pending work (outbox claims, the inbound cursor,
// the change feed, flow timeouts) read only pending rows: their plans go
// through the partial indexes (or the rowid range) that hold nothing else,
// and scan no table, so their cost does not grow with the history kept.
func TestPendingWork_QueryPlansTouchOnlyPendingRows(t *testing.T) {
	db := MustOpenDB(t)
	for _, q := range sqlite.PendingWorkQueries {
		t.Run(q.Name, func(t *testing.T) {
			rows, err := db.Reader().QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q.Query, q.Args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			text := strings.Join(plan, "\n")
			for _, line := range plan {
				// A scan is allowed only over a partial index of pending rows.
				if strings.HasPrefix(line, "SCAN ") && !strings.HasPrefix(line, "SCAN CONSTANT") && !strings.HasPrefix(line, "SCAN (subquery") &&
					!usesOneOf(line, q.Indexes) {
					t.Errorf("the plan scans more than pending rows (%s):\n%s", line, text)
				}
			}
			for _, ix := range q.Indexes {
				if !strings.Contains(text, ix) {
					t.Errorf("the plan does not use %s:\n%s", ix, text)
				}
			}
		})
	}
}

// usesOneOf reports whether a plan line reads through one of the indexes.
func usesOneOf(line string, indexes []string) bool {
	for _, ix := range indexes {
		if strings.Contains(line, "INDEX "+ix+" ") || strings.HasSuffix(line, "INDEX "+ix) {
			return true
		}
	}
	return false
}
