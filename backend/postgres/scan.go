package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"switchboard/backend"
)

// at scans a nullable timestamptz into a UTC time (zero for NULL).
type at struct{ t *time.Time }

// ScanTimestamptz implements pgtype.TimestamptzScanner.
func (a at) ScanTimestamptz(v pgtype.Timestamptz) error {
	*a.t = time.Time{}
	if v.Valid {
		*a.t = v.Time.UTC()
	}
	return nil
}

// tz is a time as a query argument: NULL for the zero time.
func tz(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// micro returns t as the store keeps it: UTC, to the microsecond.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// scanner is a row or the current row of rows.
type scanner interface{ Scan(dest ...any) error }

// collect reads every row of a query with scan.
func collect[T any](ctx context.Context, q querier, scan func(scanner) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// one reads the single row of a query with scan; ENotFound (notFound's
// sentence) when there is none.
func one[T any](ctx context.Context, q querier, scan func(scanner) (T, error), notFound *backend.Error, sql string, args ...any) (T, error) {
	v, err := scan(q.QueryRow(ctx, sql, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		var zero T
		return zero, notFound
	}
	return v, err
}

// stringList reads a query's single text column.
func stringList(ctx context.Context, q querier, sql string, args ...any) ([]string, error) {
	return collect(ctx, q, func(s scanner) (string, error) {
		var v string
		return v, s.Scan(&v)
	}, sql, args...)
}

// exists reports whether a query finds a row.
func exists(ctx context.Context, q querier, sql string, args ...any) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (`+sql+`)`, args...).Scan(&ok)
	return ok, err
}

// jsonOf scans a jsonb column into a new T.
func jsonOf[T any](s scanner) (*T, error) {
	v := new(T)
	return v, s.Scan(v)
}

// qualified prefixes each of a comma-separated list of columns with a
// table's alias ("id, name" → "f.id, f.name").
func qualified(alias, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
