package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"switchboard/backend/internal/storekit"
)

// secrets seals and opens with the DB's key (see storekit.Secrets).
func (db *DB) secrets() storekit.Secrets { return storekit.Secrets{Key: db.Secrets} }

// openSecrets checks the secret key against the one this database's
// secrets were sealed with, storing the check on the first open with a key.
// (Every secret this store writes is sealed: there are no clear rows from
// before encryption to seal.)
func (db *DB) openSecrets(ctx context.Context) error {
	if db.Secrets == nil {
		return nil
	}
	var check string
	err := db.pool.QueryRow(ctx, `SELECT value FROM secret_state WHERE name = 'check'`).Scan(&check)
	switch {
	case err == nil:
		return db.secrets().CheckKey(check)
	case errors.Is(err, pgx.ErrNoRows):
		// Two nodes starting together with different keys: the first wins
		// and the second is refused.
		if err := db.pool.QueryRow(ctx, `WITH ins AS (INSERT INTO secret_state (name, value) VALUES ('check', $1)
			ON CONFLICT (name) DO NOTHING RETURNING value)
			SELECT value FROM ins UNION ALL SELECT value FROM secret_state WHERE name = 'check' LIMIT 1`,
			db.secrets().NewKeyCheck()).Scan(&check); err != nil {
			return fmt.Errorf("store key check: %w", err)
		}
		return db.secrets().CheckKey(check)
	}
	return fmt.Errorf("read key check: %w", err)
}

// HasSecrets reports whether the store holds secrets: configured channels,
// web chat keys, trunks, flows with HTTP headers, or a key check (a key was
// used). `serve` refuses to start without a key then.
func (db *DB) HasSecrets(ctx context.Context) (bool, error) {
	var has bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM channel_instances) OR EXISTS (SELECT 1 FROM webchat_keys)
		OR EXISTS (SELECT 1 FROM voice_trunks) OR EXISTS (SELECT 1 FROM secret_state WHERE name = 'check')
		OR EXISTS (SELECT 1 FROM flow_revisions WHERE definition::text LIKE '%"headers"%')`).Scan(&has)
	if err != nil {
		return false, fmt.Errorf("look for secrets: %w", err)
	}
	return has, nil
}
