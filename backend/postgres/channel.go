package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

var _ backend.ChannelService = (*DB)(nil)

const channelInstanceColumns = `connector, instance, config, enabled, created_at, updated_at`

// scanChannelInstance reads an instance and opens its sealed configuration.
func (db *DB) scanChannelInstance(s scanner) (*backend.ChannelInstance, error) {
	var ci backend.ChannelInstance
	var config string
	if err := s.Scan(&ci.Connector, &ci.Instance, &config, &ci.Enabled, at{&ci.CreatedAt}, at{&ci.UpdatedAt}); err != nil {
		return nil, err
	}
	plain, err := db.secrets().Open(config, storekit.ChannelSecretContext(ci.Connector, ci.Instance))
	if err != nil {
		return nil, err
	}
	ci.Config = json.RawMessage(plain)
	return &ci, nil
}

// PutChannelInstance implements backend.ChannelService.
func (db *DB) PutChannelInstance(ctx context.Context, ci *backend.ChannelInstance) error {
	config, err := storekit.ChannelConfig(ci)
	if err != nil {
		return err
	}
	// The whole configuration is sealed: every connector keeps secrets in it.
	sealed, err := db.secrets().Seal(config, storekit.ChannelSecretContext(ci.Connector, ci.Instance))
	if err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		fresh, err := db.scanChannelInstance(tx.QueryRow(ctx, `INSERT INTO channel_instances (`+channelInstanceColumns+`) VALUES ($1, $2, $3, $4, $5, $5)
			ON CONFLICT (connector, instance) DO UPDATE SET config = excluded.config, enabled = excluded.enabled, updated_at = excluded.updated_at
			RETURNING `+channelInstanceColumns, ci.Connector, ci.Instance, sealed, ci.Enabled, tx.Now()))
		if err != nil {
			return fmt.Errorf("put channel instance: %w", err)
		}
		*ci = *fresh
		return nil
	})
}

// FindChannelInstance implements backend.ChannelService.
func (db *DB) FindChannelInstance(ctx context.Context, connector, instance string) (*backend.ChannelInstance, error) {
	ci, err := one(ctx, db.pool, db.scanChannelInstance, backend.Errorf(backend.ENotFound, "Channel %s/%s is not configured.", connector, instance),
		`SELECT `+channelInstanceColumns+` FROM channel_instances WHERE connector = $1 AND instance = $2`, connector, instance)
	if backend.ErrorCode(err) == backend.EInternal {
		return nil, fmt.Errorf("find channel instance: %w", err)
	}
	return ci, err
}

// FindChannelInstances implements backend.ChannelService.
func (db *DB) FindChannelInstances(ctx context.Context) ([]*backend.ChannelInstance, error) {
	out, err := collect(ctx, db.pool, db.scanChannelInstance, `SELECT `+channelInstanceColumns+` FROM channel_instances ORDER BY connector, instance`)
	if err != nil {
		return nil, fmt.Errorf("find channel instances: %w", err)
	}
	return nonNil(out), nil
}

// DeleteChannelInstance implements backend.ChannelService.
func (db *DB) DeleteChannelInstance(ctx context.Context, connector, instance string) error {
	return db.update(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM channel_instances WHERE connector = $1 AND instance = $2`, connector, instance)
		if err != nil {
			return fmt.Errorf("delete channel instance: %w", err)
		} else if tag.RowsAffected() == 0 {
			return backend.Errorf(backend.ENotFound, "Channel %s/%s is not configured.", connector, instance)
		}
		return nil
	})
}

// ChannelCursor implements backend.ChannelService.
func (db *DB) ChannelCursor(ctx context.Context, name string) (int64, error) {
	var v int64
	err := db.pool.QueryRow(ctx, `SELECT value FROM channel_cursors WHERE name = $1`, name).Scan(&v)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("channel cursor %s: %w", name, err)
	}
	return v, nil
}

// SetChannelCursor implements backend.ChannelService.
func (db *DB) SetChannelCursor(ctx context.Context, name string, v int64) error {
	return db.update(ctx, func(tx *Tx) error { return setChannelCursor(ctx, tx, name, v) })
}

func setChannelCursor(ctx context.Context, tx *Tx, name string, v int64) error {
	if _, err := tx.Exec(ctx, `INSERT INTO channel_cursors (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, v); err != nil {
		return fmt.Errorf("set channel cursor %s: %w", name, err)
	}
	return nil
}

// FindMessageByExternalID implements backend.ChannelService.
func (db *DB) FindMessageByExternalID(ctx context.Context, channel, instance, externalID string) (*backend.Message, error) {
	if externalID == "" {
		return nil, backend.Errorf(backend.ENotFound, "The message does not exist.")
	}
	return findMessage(ctx, db.pool, `channel = $1 AND instance = $2 AND external_id = $3`, channel, instance, externalID)
}

// ThreadMessagesIn implements storetx.MessageTx: the rows stay locked
// until the commit.
func (s steps) ThreadMessagesIn(ctx context.Context, channel, instance, threadKey string, before time.Time, statuses []string) ([]*backend.Message, error) {
	out, err := collect(ctx, s.Tx, messageScan, `SELECT `+messageColumns+` FROM messages WHERE direction = 'out' AND NOT private
		AND conversation_id IN (SELECT id FROM conversations WHERE channel = $1 AND instance = $2 AND thread_key = $3)
		AND created_at <= $4 AND status = ANY ($5) ORDER BY pos, id FOR UPDATE`, channel, instance, threadKey, before, statuses)
	if err != nil {
		return nil, fmt.Errorf("thread delivery status: %w", err)
	}
	return out, nil
}

// InboundAfter implements backend.ChannelService. The cursor is a
// message's position (see the messages table), so no message is passed
// over for having committed after a later one.
func (db *DB) InboundAfter(ctx context.Context, cursor int64, limit int) ([]*backend.Message, []int64, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var seqs []int64
	msgs, err := collect(ctx, db.pool, func(s scanner) (*backend.Message, error) {
		var pos int64
		m, err := scanMessage(s, &pos)
		seqs = append(seqs, pos)
		return m, err
	}, `SELECT `+messageColumns+`, pos FROM messages AS m WHERE pos > $1 AND direction = 'in'
		AND EXISTS (SELECT 1 FROM channel_instances ci WHERE ci.connector = m.channel AND ci.instance = m.instance)
		ORDER BY pos LIMIT $2`, cursor, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("inbound after %d: %w", cursor, err)
	}
	return msgs, seqs, nil
}

// ChannelActivity returns the traffic of one channel instance: its newest
// inbound message and sent reply, and its failing replies.
func (db *DB) ChannelActivity(ctx context.Context, connector, instance string, now time.Time) (*backend.ChannelActivity, error) {
	var a backend.ChannelActivity
	err := db.pool.QueryRow(ctx, `SELECT
		(SELECT MAX(created_at) FROM messages WHERE channel = $1 AND instance = $2 AND direction = 'in'),
		(SELECT MAX(updated_at) FROM channel_outbox WHERE connector = $1 AND instance = $2 AND state = 'sent'),
		(SELECT COUNT(*) FROM channel_outbox WHERE connector = $1 AND instance = $2 AND state = 'failed' AND updated_at >= $3),
		(SELECT COUNT(*) FROM channel_outbox WHERE connector = $1 AND instance = $2 AND state IN ('pending', 'sending') AND attempts > 0),
		COALESCE((SELECT last_error FROM channel_outbox WHERE connector = $1 AND instance = $2 AND last_error <> ''
			AND state IN ('failed', 'pending', 'sending') ORDER BY updated_at DESC LIMIT 1), ''),
		(SELECT MAX(updated_at) FROM channel_outbox WHERE connector = $1 AND instance = $2 AND last_error <> ''
			AND state IN ('failed', 'pending', 'sending'))`,
		connector, instance, now.Add(-24*time.Hour)).
		Scan(at{&a.LastInboundAt}, at{&a.LastSentAt}, &a.FailedReplies, &a.RetryingReplies, &a.LastFailure, at{&a.LastFailureAt})
	if err != nil {
		return nil, fmt.Errorf("channel activity: %w", err)
	}
	return &a, nil
}
