package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
)

var (
	_ backend.FlowService     = (*DB)(nil)
	_ backend.FlowStepService = (*DB)(nil)
)

var _ storetx.FlowTx = steps{}

// InsertFlowRevision implements storetx.FlowTx.
func (s steps) InsertFlowRevision(ctx context.Context, key, sealedDef string, at time.Time) (int, error) {
	var n int
	if err := s.QueryRowContext(ctx, `SELECT COALESCE(MAX(revision), 0) FROM flow_revisions WHERE flow_key = ?`, key).Scan(&n); err != nil {
		return 0, fmt.Errorf("next flow revision: %w", err)
	}
	if _, err := s.ExecContext(ctx, `INSERT INTO flow_revisions (flow_key, revision, definition, created_at) VALUES (?, ?, ?, ?)`,
		key, n+1, sealedDef, formatTime(at)); err != nil {
		return 0, fmt.Errorf("insert flow revision: %w", err)
	}
	return n + 1, nil
}

// SetCurrentFlow implements storetx.FlowTx.
func (s steps) SetCurrentFlow(ctx context.Context, key string, revision int, at time.Time) error {
	if _, err := s.ExecContext(ctx, `INSERT INTO flows (flow_key, revision, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (flow_key) DO UPDATE SET revision = excluded.revision, updated_at = excluded.updated_at`,
		key, revision, formatTime(at)); err != nil {
		return fmt.Errorf("set current flow: %w", err)
	}
	return nil
}

// scanFlowRevision reads a revision and opens its sealed header values.
func (db *DB) scanFlowRevision(s interface{ Scan(...any) error }) (*backend.FlowRevision, error) {
	var rev backend.FlowRevision
	var def, created string
	if err := s.Scan(&rev.Key, &rev.Revision, &def, &created); err != nil {
		return nil, err
	}
	rev.CreatedAt = parseTime(created)
	if err := json.Unmarshal([]byte(def), &rev.Flow); err != nil {
		return nil, fmt.Errorf("flow %s revision %d: %w", rev.Key, rev.Revision, err)
	}
	var err error
	if rev.Flow, err = db.openFlow(rev.Key, rev.Flow); err != nil {
		return nil, err
	}
	return &rev, nil
}

const flowRevisionColumns = `r.flow_key, r.revision, r.definition, r.created_at`

// FindFlow implements backend.FlowService.
func (db *DB) FindFlow(ctx context.Context, key string) (*backend.FlowRevision, error) {
	rev, err := db.scanFlowRevision(db.r.QueryRowContext(ctx, `SELECT `+flowRevisionColumns+`
		FROM flows f JOIN flow_revisions r ON r.flow_key = f.flow_key AND r.revision = f.revision WHERE f.flow_key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "Channel %s has no flow of its own.", key)
	} else if err != nil {
		return nil, fmt.Errorf("find flow: %w", err)
	}
	return rev, nil
}

// FindFlowRevision implements backend.FlowService.
func (db *DB) FindFlowRevision(ctx context.Context, key string, revision int) (*backend.FlowRevision, error) {
	rev, err := db.scanFlowRevision(db.r.QueryRowContext(ctx, `SELECT `+flowRevisionColumns+`
		FROM flow_revisions r WHERE r.flow_key = ? AND r.revision = ?`, key, revision))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "Flow %s has no revision %d.", key, revision)
	} else if err != nil {
		return nil, fmt.Errorf("find flow revision: %w", err)
	}
	return rev, nil
}

// FindFlows implements backend.FlowService.
func (db *DB) FindFlows(ctx context.Context) ([]*backend.FlowRevision, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+flowRevisionColumns+`
		FROM flows f JOIN flow_revisions r ON r.flow_key = f.flow_key AND r.revision = f.revision ORDER BY f.flow_key`)
	if err != nil {
		return nil, fmt.Errorf("find flows: %w", err)
	}
	defer rows.Close()
	out := []*backend.FlowRevision{}
	for rows.Next() {
		rev, err := db.scanFlowRevision(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rev)
	}
	return out, rows.Err()
}

// DeleteFlow implements backend.FlowService.
func (db *DB) DeleteFlow(ctx context.Context, key string) error {
	return db.update(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM flows WHERE flow_key = ?`, key)
		if err != nil {
			return fmt.Errorf("delete flow: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return backend.Errorf(backend.ENotFound, "Channel %s has no flow of its own.", key)
		}
		return tx.AppendEvent(ctx, backend.EventFlowDeleted, key, map[string]string{"key": key})
	})
}

// FindFlowExecution implements backend.FlowService.
func (db *DB) FindFlowExecution(ctx context.Context, conversationID string) (*backend.FlowExecution, error) {
	return findFlowExecution(ctx, db.r, conversationID)
}

// findFlowExecution reads a conversation's flow execution through q, so a
// caller already holding a read transaction never waits for a second
// connection from the pool.
func findFlowExecution(ctx context.Context, q queryer, conversationID string) (*backend.FlowExecution, error) {
	x, err := scanFlowExecution(q.QueryRowContext(ctx, `SELECT data, version FROM flow_executions WHERE conversation_id = ?`, conversationID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "Conversation %s has no flow execution.", conversationID)
	} else if err != nil {
		return nil, fmt.Errorf("find flow execution: %w", err)
	}
	return x, nil
}

func scanFlowExecution(s interface{ Scan(...any) error }) (*backend.FlowExecution, error) {
	var data string
	var version int64
	if err := s.Scan(&data, &version); err != nil {
		return nil, err
	}
	var x backend.FlowExecution
	if err := json.Unmarshal([]byte(data), &x); err != nil {
		return nil, fmt.Errorf("decode flow execution: %w", err)
	}
	x.Version = version
	return &x, nil
}

// flowDeadline is the time the engine must look at x again, if any.
var flowDeadline = storekit.FlowDeadline

// PutFlowExecution implements storetx.FlowTx.
func (s steps) PutFlowExecution(ctx context.Context, x *backend.FlowExecution, version int64) (bool, error) {
	data, err := json.Marshal(x)
	if err != nil {
		return false, fmt.Errorf("marshal flow execution: %w", err)
	}
	args := []any{x.ID, x.FlowKey, x.Revision, x.Status, x.Widget, formatTime(x.TimeoutAt),
		formatTime(x.LeaseUntil), formatTime(flowDeadline(x)), x.Version, string(data),
		formatTime(x.CreatedAt), formatTime(x.UpdatedAt), x.ConversationID}
	var res sql.Result
	if version == 0 {
		res, err = s.ExecContext(ctx, `INSERT INTO flow_executions (id, flow_key, revision, status, widget, timeout_at,
			lease_until, deadline, version, data, created_at, updated_at, conversation_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (conversation_id) DO NOTHING`, args...)
	} else {
		res, err = s.ExecContext(ctx, `UPDATE flow_executions SET id = ?, flow_key = ?, revision = ?, status = ?, widget = ?,
			timeout_at = ?, lease_until = ?, deadline = ?, version = ?, data = ?, created_at = ?, updated_at = ?
			WHERE conversation_id = ? AND version = ?`, append(args, version)...)
	}
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// DueFlowExecutions implements backend.FlowService.
func (db *DB) DueFlowExecutions(ctx context.Context, now time.Time, limit int) ([]*backend.FlowExecution, error) {
	if limit <= 0 {
		limit = 100
	}
	return db.flowExecutions(ctx, dueFlowQuery, formatTime(now), limit)
}

// dueFlowQuery reads executions whose deadline passed from the partial
// index of executions that have one.
const dueFlowQuery = `SELECT data, version FROM flow_executions WHERE deadline <> '' AND deadline <= ? ORDER BY deadline LIMIT ?`

// RunningFlowExecutions implements backend.FlowService.
func (db *DB) RunningFlowExecutions(ctx context.Context, limit int) ([]*backend.FlowExecution, error) {
	if limit <= 0 {
		limit = 100
	}
	return db.flowExecutions(ctx, `SELECT data, version FROM flow_executions WHERE status = 'running' ORDER BY deadline LIMIT ?`, limit)
}

func (db *DB) flowExecutions(ctx context.Context, query string, args ...any) ([]*backend.FlowExecution, error) {
	xs, err := collect(ctx, db.r, query, func(r *sql.Rows) (*backend.FlowExecution, error) { return scanFlowExecution(r) }, args...)
	if err != nil {
		return nil, fmt.Errorf("flow executions: %w", err)
	}
	return xs, nil
}

// NextFlowDeadline implements backend.FlowService.
func (db *DB) NextFlowDeadline(ctx context.Context) (time.Time, bool, error) {
	var at sql.NullString
	if err := db.r.QueryRowContext(ctx, `SELECT MIN(deadline) FROM flow_executions WHERE deadline <> ''`).Scan(&at); err != nil {
		return time.Time{}, false, fmt.Errorf("next flow deadline: %w", err)
	}
	if !at.Valid || at.String == "" {
		return time.Time{}, false, nil
	}
	return parseTime(at.String), true, nil
}
