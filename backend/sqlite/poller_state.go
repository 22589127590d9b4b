package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// PollerState implements backend.ChannelService.
func (db *DB) PollerState(ctx context.Context, connector, instance string) ([]byte, error) {
	var state []byte
	err := db.r.QueryRowContext(ctx, `SELECT state FROM channel_poller_state WHERE connector = ? AND instance = ?`, connector, instance).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("poller state: %w", err)
	}
	return state, nil
}

// SavePollerState implements backend.ChannelService.
func (db *DB) SavePollerState(ctx context.Context, connector, instance string, state []byte) error {
	return db.update(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO channel_poller_state (connector, instance, state, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (connector, instance) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
			connector, instance, state, formatTime(tx.Now()))
		if err != nil {
			return fmt.Errorf("save poller state: %w", err)
		}
		return nil
	})
}
