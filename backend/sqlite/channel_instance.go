package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

var _ backend.ChannelService = (*DB)(nil)

// scanChannelInstance reads an instance and opens its sealed configuration.
func (db *DB) scanChannelInstance(s interface{ Scan(...any) error }) (*backend.ChannelInstance, error) {
	var ci backend.ChannelInstance
	var config, created, updated string
	if err := s.Scan(&ci.Connector, &ci.Instance, &config, &ci.Enabled, &created, &updated); err != nil {
		return nil, err
	}
	plain, err := db.open(config, channelSecretContext(ci.Connector, ci.Instance))
	if err != nil {
		return nil, err
	}
	ci.Config = json.RawMessage(plain)
	ci.CreatedAt, ci.UpdatedAt = parseTime(created), parseTime(updated)
	return &ci, nil
}

const channelInstanceColumns = `connector, instance, config, enabled, created_at, updated_at`

// PutChannelInstance implements backend.ChannelService.
func (db *DB) PutChannelInstance(ctx context.Context, ci *backend.ChannelInstance) error {
	config, err := storekit.ChannelConfig(ci)
	if err != nil {
		return err
	}
	// The whole configuration is sealed: every connector keeps secrets in it.
	sealed, err := db.seal(config, channelSecretContext(ci.Connector, ci.Instance))
	if err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		now := formatTime(tx.Now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO channel_instances (`+channelInstanceColumns+`) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (connector, instance) DO UPDATE SET config = excluded.config, enabled = excluded.enabled, updated_at = excluded.updated_at`,
			ci.Connector, ci.Instance, sealed, ci.Enabled, now, now); err != nil {
			return fmt.Errorf("put channel instance: %w", err)
		}
		fresh, err := db.scanChannelInstance(tx.QueryRowContext(ctx, `SELECT `+channelInstanceColumns+` FROM channel_instances
			WHERE connector = ? AND instance = ?`, ci.Connector, ci.Instance))
		if err != nil {
			return fmt.Errorf("put channel instance: %w", err)
		}
		*ci = *fresh
		return nil
	})
}

// FindChannelInstance implements backend.ChannelService.
func (db *DB) FindChannelInstance(ctx context.Context, connector, instance string) (*backend.ChannelInstance, error) {
	ci, err := db.scanChannelInstance(db.r.QueryRowContext(ctx, `SELECT `+channelInstanceColumns+` FROM channel_instances
		WHERE connector = ? AND instance = ?`, connector, instance))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "Channel %s/%s is not configured.", connector, instance)
	} else if err != nil {
		return nil, fmt.Errorf("find channel instance: %w", err)
	}
	return ci, nil
}

// FindChannelInstances implements backend.ChannelService.
func (db *DB) FindChannelInstances(ctx context.Context) ([]*backend.ChannelInstance, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+channelInstanceColumns+` FROM channel_instances ORDER BY connector, instance`)
	if err != nil {
		return nil, fmt.Errorf("find channel instances: %w", err)
	}
	defer rows.Close()
	out := []*backend.ChannelInstance{}
	for rows.Next() {
		ci, err := db.scanChannelInstance(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ci)
	}
	return out, rows.Err()
}

// DeleteChannelInstance implements backend.ChannelService.
func (db *DB) DeleteChannelInstance(ctx context.Context, connector, instance string) error {
	return db.update(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM channel_instances WHERE connector = ? AND instance = ?`, connector, instance)
		if err != nil {
			return fmt.Errorf("delete channel instance: %w", err)
		} else if n, _ := res.RowsAffected(); n == 0 {
			return backend.Errorf(backend.ENotFound, "Channel %s/%s is not configured.", connector, instance)
		}
		return nil
	})
}

// ChannelCursor implements backend.ChannelService.
func (db *DB) ChannelCursor(ctx context.Context, name string) (int64, error) {
	return channelCursor(ctx, db.r, name)
}

func channelCursor(ctx context.Context, q queryer, name string) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, `SELECT value FROM channel_cursors WHERE name = ?`, name).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("channel cursor %s: %w", name, err)
	}
	return v, nil
}

// SetChannelCursor implements backend.ChannelService.
func (db *DB) SetChannelCursor(ctx context.Context, name string, v int64) error {
	return db.update(ctx, func(tx *Tx) error { return setChannelCursor(ctx, tx, name, v) })
}

func setChannelCursor(ctx context.Context, tx *Tx, name string, v int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO channel_cursors (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, v); err != nil {
		return fmt.Errorf("set channel cursor %s: %w", name, err)
	}
	return nil
}
