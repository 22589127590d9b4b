package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
)

var _ backend.CallService = (*DB)(nil)

var _ storetx.CallTx = steps{}

// InsertCall implements storetx.CallTx: the call records this node.
func (s steps) InsertCall(ctx context.Context, c *backend.Call) error {
	if _, err := s.Exec(ctx, `INSERT INTO calls (id, conversation_id, state, node, started_at, data) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.ID, c.ConversationID, c.State, s.db.node, c.StartedAt, c); err != nil {
		return fmt.Errorf("insert call: %w", err)
	}
	return nil
}

// UpdateCall implements storetx.CallTx.
func (s steps) UpdateCall(ctx context.Context, c *backend.Call) (bool, error) {
	tag, err := s.Exec(ctx, `UPDATE calls SET state = $1, data = $2 WHERE id = $3`, c.State, c, c.ID)
	if err != nil {
		return false, fmt.Errorf("save call: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// UpdateCallConversation implements storetx.CallTx.
func (s steps) UpdateCallConversation(ctx context.Context, conv *backend.Conversation) error {
	if _, err := s.Exec(ctx, `UPDATE conversations SET last_message_at = $1, last_message_text = $2, status = $3, assignee_id = $4, updated_at = $5
		WHERE id = $6`, conv.LastMessageAt, conv.LastMessageText, conv.Status, conv.AssigneeID, conv.UpdatedAt, conv.ID); err != nil {
		return fmt.Errorf("touch call conversation: %w", err)
	}
	return nil
}

// FindCall implements backend.CallService.
func (db *DB) FindCall(ctx context.Context, id string) (*backend.Call, error) {
	return one(ctx, db.pool, jsonOf[backend.Call], backend.Errorf(backend.ENotFound, "Call %s does not exist.", id),
		`SELECT data FROM calls WHERE id = $1`, id)
}

// FindLiveCalls implements backend.CallService: the calls not ended whose
// node is gone (a live node's calls are its own).
func (db *DB) FindLiveCalls(ctx context.Context) ([]*backend.Call, error) {
	out, err := collect(ctx, db.pool, jsonOf[backend.Call], `SELECT data FROM calls WHERE state <> $1
		AND (node IS NULL OR node NOT IN `+liveNodes+`) ORDER BY started_at`, backend.CallEnded)
	if err != nil {
		return nil, fmt.Errorf("find live calls: %w", err)
	}
	return out, nil
}

// PutTrunk implements backend.CallService.
func (db *DB) PutTrunk(ctx context.Context, t *backend.Trunk) error {
	if err := storekit.CheckTrunk(t); err != nil {
		return err
	}
	// The configuration holds the trunk's digest password: it is sealed
	// whole, like a channel's.
	sealed, err := db.secrets().Seal(t.Config, storekit.TrunkConfigContext(t.Name))
	if err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		t.UpdatedAt = tx.Now()
		err := tx.QueryRow(ctx, `INSERT INTO voice_trunks (name, config, enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
			ON CONFLICT (name) DO UPDATE SET config = excluded.config, enabled = excluded.enabled, updated_at = excluded.updated_at
			RETURNING created_at`, t.Name, sealed, t.Enabled, t.UpdatedAt).Scan(at{&t.CreatedAt})
		if err != nil {
			return fmt.Errorf("put trunk: %w", err)
		}
		return nil
	})
}

// FindTrunks implements backend.CallService.
func (db *DB) FindTrunks(ctx context.Context) ([]*backend.Trunk, error) {
	out, err := collect(ctx, db.pool, func(s scanner) (*backend.Trunk, error) {
		var t backend.Trunk
		var config string
		if err := s.Scan(&t.Name, &config, &t.Enabled, at{&t.CreatedAt}, at{&t.UpdatedAt}); err != nil {
			return nil, err
		}
		plain, err := db.secrets().Open(config, storekit.TrunkConfigContext(t.Name))
		t.Config = json.RawMessage(plain)
		return &t, err
	}, `SELECT name, config, enabled, created_at, updated_at FROM voice_trunks ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("find trunks: %w", err)
	}
	return out, nil
}

// DeleteTrunk implements backend.CallService.
func (db *DB) DeleteTrunk(ctx context.Context, name string) error {
	return db.update(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM voice_trunks WHERE name = $1`, name)
		if err != nil {
			return fmt.Errorf("delete trunk: %w", err)
		} else if tag.RowsAffected() == 0 {
			return backend.Errorf(backend.ENotFound, "Trunk %s does not exist.", name)
		}
		return nil
	})
}
