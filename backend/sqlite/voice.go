package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
)

var _ backend.CallService = (*DB)(nil)

var _ storetx.CallTx = steps{}

// InsertCall implements storetx.CallTx.
func (s steps) InsertCall(ctx context.Context, c *backend.Call) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if _, err := s.ExecContext(ctx, `INSERT INTO calls (id, conversation_id, state, data, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		c.ID, c.ConversationID, c.State, string(data), formatTime(c.StartedAt), formatTime(c.UpdatedAt)); err != nil {
		return fmt.Errorf("insert call: %w", err)
	}
	return nil
}

// UpdateCall implements storetx.CallTx.
func (s steps) UpdateCall(ctx context.Context, c *backend.Call) (bool, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return false, err
	}
	res, err := s.ExecContext(ctx, `UPDATE calls SET state = ?, data = ?, updated_at = ? WHERE id = ?`,
		c.State, string(data), formatTime(c.UpdatedAt), c.ID)
	if err != nil {
		return false, fmt.Errorf("save call: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// UpdateCallConversation implements storetx.CallTx.
func (s steps) UpdateCallConversation(ctx context.Context, conv *backend.Conversation) error {
	if _, err := s.ExecContext(ctx, `UPDATE conversations SET last_message_at = ?, last_message_text = ?, status = ?, assignee_id = ?, updated_at = ? WHERE id = ?`,
		formatTime(conv.LastMessageAt), conv.LastMessageText, conv.Status, conv.AssigneeID, formatTime(conv.UpdatedAt), conv.ID); err != nil {
		return fmt.Errorf("touch call conversation: %w", err)
	}
	return nil
}

func scanCall(s interface{ Scan(...any) error }) (*backend.Call, error) {
	var data string
	if err := s.Scan(&data); err != nil {
		return nil, err
	}
	var c backend.Call
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return nil, fmt.Errorf("decode call: %w", err)
	}
	return &c, nil
}

// FindCall implements backend.CallService.
func (db *DB) FindCall(ctx context.Context, id string) (*backend.Call, error) {
	c, err := scanCall(db.r.QueryRowContext(ctx, `SELECT data FROM calls WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "Call %s does not exist.", id)
	}
	return c, err
}

// FindLiveCalls implements backend.CallService.
func (db *DB) FindLiveCalls(ctx context.Context) ([]*backend.Call, error) {
	calls, err := collect(ctx, db.r, `SELECT data FROM calls WHERE state <> ? ORDER BY started_at`,
		func(r *sql.Rows) (*backend.Call, error) { return scanCall(r) }, backend.CallEnded)
	if err != nil {
		return nil, fmt.Errorf("find live calls: %w", err)
	}
	return calls, nil
}

// PutTrunk implements backend.CallService.
func (db *DB) PutTrunk(ctx context.Context, t *backend.Trunk) error {
	if err := storekit.CheckTrunk(t); err != nil {
		return err
	}
	// The configuration holds the trunk's digest password: it is sealed
	// whole, like a channel's.
	sealed, err := db.seal(t.Config, storekit.TrunkConfigContext(t.Name))
	if err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		t.UpdatedAt = tx.Now()
		var created string
		err := tx.QueryRowContext(ctx, `SELECT created_at FROM voice_trunks WHERE name = ?`, t.Name).Scan(&created)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			t.CreatedAt = tx.Now()
		case err != nil:
			return fmt.Errorf("find trunk: %w", err)
		default:
			t.CreatedAt = parseTime(created)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO voice_trunks (name, config, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET config = excluded.config, enabled = excluded.enabled, updated_at = excluded.updated_at`,
			t.Name, sealed, t.Enabled, formatTime(t.CreatedAt), formatTime(t.UpdatedAt))
		if err != nil {
			return fmt.Errorf("put trunk: %w", err)
		}
		return nil
	})
}

// FindTrunks implements backend.CallService.
func (db *DB) FindTrunks(ctx context.Context) ([]*backend.Trunk, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT name, config, enabled, created_at, updated_at FROM voice_trunks ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("find trunks: %w", err)
	}
	defer rows.Close()
	var out []*backend.Trunk
	for rows.Next() {
		var t backend.Trunk
		var config, created, updated string
		if err := rows.Scan(&t.Name, &config, &t.Enabled, &created, &updated); err != nil {
			return nil, err
		}
		plain, err := db.open(config, storekit.TrunkConfigContext(t.Name))
		if err != nil {
			return nil, err
		}
		t.Config, t.CreatedAt, t.UpdatedAt = json.RawMessage(plain), parseTime(created), parseTime(updated)
		out = append(out, &t)
	}
	return out, rows.Err()
}

// DeleteTrunk implements backend.CallService.
func (db *DB) DeleteTrunk(ctx context.Context, name string) error {
	return db.update(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM voice_trunks WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("delete trunk: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return backend.Errorf(backend.ENotFound, "Trunk %s does not exist.", name)
		}
		return nil
	})
}
