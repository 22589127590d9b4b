package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// secrets seals and opens with the DB's key (see storekit.Secrets).
func (db *DB) secrets() storekit.Secrets { return storekit.Secrets{Key: db.Secrets} }

// The places sealed values are bound to.
var (
	channelSecretContext = storekit.ChannelSecretContext
	webchatKeyContext    = storekit.WebchatKeyContext
)

func (db *DB) seal(plain []byte, context string) (string, error) {
	return db.secrets().Seal(plain, context)
}

func (db *DB) open(stored string, context string) ([]byte, error) {
	return db.secrets().Open(stored, context)
}

func (db *DB) sealFlow(key string, f *backend.Flow) (*backend.Flow, error) {
	return db.secrets().SealFlow(key, f)
}

func (db *DB) openFlow(key string, f *backend.Flow) (*backend.Flow, error) {
	return db.secrets().OpenFlow(key, f)
}

// PrivateFiles makes an SQLite database file (created if missing), its
// -wal and -shm readable by this user only. SQLite gives the -wal and -shm
// files it creates the main file's permissions, so calling it before the
// first open is enough. The desktop's cache uses it too.
func PrivateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	return nil
}

// openSecrets checks the secret key against the one this database was
// sealed with and, on the first open with a key, seals every secret written
// in clear before (then rewrites the file, so no clear copy remains in
// free pages or the WAL).
func (db *DB) openSecrets(ctx context.Context) error {
	if db.Secrets == nil {
		return nil
	}
	done := 0
	err := db.update(ctx, func(tx *Tx) error {
		var check string
		err := tx.QueryRowContext(ctx, `SELECT value FROM secret_state WHERE name = 'check'`).Scan(&check)
		switch {
		case err == nil:
			if err := db.secrets().CheckKey(check); err != nil {
				return err
			}
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO secret_state (name, value) VALUES ('check', ?)`,
				db.secrets().NewKeyCheck()); err != nil {
				return fmt.Errorf("store key check: %w", err)
			}
		default:
			return fmt.Errorf("read key check: %w", err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM secret_state WHERE name = 'legacy-sealed'`).Scan(&done); err != nil {
			return fmt.Errorf("read seal marker: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if done > 0 {
		return nil
	}
	changed := 0
	err = db.update(ctx, func(tx *Tx) error {
		for _, step := range []func(context.Context, *Tx) (int, error){db.sealLegacyChannels, db.sealLegacyWebchatKeys, db.sealLegacyFlows, redactLegacyFlowEvents} {
			n, err := step(ctx, tx)
			if err != nil {
				return err
			}
			changed += n
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO secret_state (name, value) VALUES ('legacy-sealed', ?)`, formatTime(tx.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("seal clear-text secrets: %w", err)
	}
	if changed == 0 {
		return nil
	}
	// Pages written before may hold old clear copies in free space: rebuild
	// the file from live rows only, then empty the WAL.
	return db.exclusive(ctx, func(ctx context.Context, c *sql.Conn) error {
		if _, err := c.ExecContext(ctx, `VACUUM`); err != nil {
			return fmt.Errorf("vacuum after sealing: %w", err)
		}
		if _, err := c.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return fmt.Errorf("checkpoint after sealing: %w", err)
		}
		return nil
	})
}

// collect reads every row of a query with scan. Inside a transaction it
// reads them all before the caller writes (one connection cannot update
// while a result set is open).
func collect[T any](ctx context.Context, q queryer, query string, scan func(*sql.Rows) (T, error), args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
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

// stored is one row's key columns and its stored text.
type stored struct {
	a, b  string
	n     int64
	value string
}

func (db *DB) sealLegacyChannels(ctx context.Context, tx *Tx) (int, error) {
	all, err := collect(ctx, tx, `SELECT connector, instance, config FROM channel_instances`, func(r *sql.Rows) (s stored, err error) {
		return s, r.Scan(&s.a, &s.b, &s.value)
	})
	n := 0
	for _, r := range all {
		if db.Secrets.Sealed(r.value) {
			continue
		}
		sealed := db.Secrets.Seal([]byte(r.value), channelSecretContext(r.a, r.b))
		if _, err := tx.ExecContext(ctx, `UPDATE channel_instances SET config = ? WHERE connector = ? AND instance = ?`, sealed, r.a, r.b); err != nil {
			return 0, err
		}
		n++
	}
	return n, err
}

func (db *DB) sealLegacyWebchatKeys(ctx context.Context, tx *Tx) (int, error) {
	all, err := collect(ctx, tx, `SELECT name, key FROM webchat_keys`, func(r *sql.Rows) (s stored, err error) {
		var key []byte
		err = r.Scan(&s.a, &key)
		s.value = string(key)
		return s, err
	})
	n := 0
	for _, r := range all {
		if db.Secrets.Sealed(r.value) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webchat_keys SET key = ? WHERE name = ?`, db.Secrets.Seal([]byte(r.value), webchatKeyContext(r.a)), r.a); err != nil {
			return 0, err
		}
		n++
	}
	return n, err
}

func (db *DB) sealLegacyFlows(ctx context.Context, tx *Tx) (int, error) {
	all, err := collect(ctx, tx, `SELECT flow_key, revision, definition FROM flow_revisions`, func(r *sql.Rows) (s stored, err error) {
		return s, r.Scan(&s.a, &s.n, &s.value)
	})
	n := 0
	for _, r := range all {
		var f backend.Flow
		if err := json.Unmarshal([]byte(r.value), &f); err != nil {
			return 0, fmt.Errorf("flow %s revision %d: %w", r.a, r.n, err)
		}
		sealed, err := db.sealFlow(r.a, &f)
		if err != nil {
			return 0, err
		}
		def, err := json.Marshal(sealed)
		if err != nil {
			return 0, err
		}
		if string(def) == r.value {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE flow_revisions SET definition = ? WHERE flow_key = ? AND revision = ?`, string(def), r.a, r.n); err != nil {
			return 0, err
		}
		n++
	}
	return n, err
}

// redactLegacyFlowEvents replaces header values in flow events written
// before the feed carried them redacted.
func redactLegacyFlowEvents(ctx context.Context, tx *Tx) (int, error) {
	all, err := collect(ctx, tx, `SELECT seq, data FROM events WHERE type = ?`, func(r *sql.Rows) (s stored, err error) {
		return s, r.Scan(&s.n, &s.value)
	}, backend.EventFlowUpserted)
	n := 0
	for _, r := range all {
		var rev backend.FlowRevision
		if err := json.Unmarshal([]byte(r.value), &rev); err != nil || rev.Flow == nil {
			continue
		}
		rev.Flow = rev.Flow.Redacted()
		data, err := json.Marshal(&rev)
		if err != nil {
			return 0, err
		}
		if string(data) == r.value {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE events SET data = ? WHERE seq = ?`, string(data), r.n); err != nil {
			return 0, err
		}
		n++
	}
	return n, err
}

// HasSecrets reports whether the store holds secrets, sealed or not:
// configured channels, web chat keys, flows with HTTP headers, or a key
// check (a key was used). `serve` refuses to start without a key then.
func (db *DB) HasSecrets(ctx context.Context) (bool, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM channel_instances) OR EXISTS (SELECT 1 FROM webchat_keys)
		OR EXISTS (SELECT 1 FROM voice_trunks)
		OR EXISTS (SELECT 1 FROM secret_state WHERE name = 'check')
		OR EXISTS (SELECT 1 FROM flow_revisions WHERE definition LIKE '%"headers"%')`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look for secrets: %w", err)
	}
	return n == 1, nil
}
