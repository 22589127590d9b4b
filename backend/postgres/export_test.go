package postgres

import "context"

// CountRows counts the rows of a table.
func (db *DB) CountRows(ctx context.Context, table string) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n)
	return n, err
}
