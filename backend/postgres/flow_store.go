package postgres

import (
	"context"
	"encoding/json"
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

// InsertFlowRevision implements storetx.FlowTx, in one statement.
func (s steps) InsertFlowRevision(ctx context.Context, key, sealedDef string, at time.Time) (int, error) {
	var revision int
	if err := s.QueryRow(ctx, `INSERT INTO flow_revisions (flow_key, revision, definition, created_at)
		SELECT $1, COALESCE(MAX(revision), 0) + 1, $2, $3 FROM flow_revisions WHERE flow_key = $1 RETURNING revision`,
		key, sealedDef, at).Scan(&revision); err != nil {
		return 0, fmt.Errorf("insert flow revision: %w", err)
	}
	return revision, nil
}

// SetCurrentFlow implements storetx.FlowTx.
func (s steps) SetCurrentFlow(ctx context.Context, key string, revision int, at time.Time) error {
	if _, err := s.Exec(ctx, `INSERT INTO flows (flow_key, revision, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (flow_key) DO UPDATE SET revision = excluded.revision, updated_at = excluded.updated_at`,
		key, revision, at); err != nil {
		return fmt.Errorf("set current flow: %w", err)
	}
	return nil
}

// scanFlowRevision reads a revision and opens its sealed header values.
func (db *DB) scanFlowRevision(s scanner) (*backend.FlowRevision, error) {
	var rev backend.FlowRevision
	var def []byte
	if err := s.Scan(&rev.Key, &rev.Revision, &def, at{&rev.CreatedAt}); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(def, &rev.Flow); err != nil {
		return nil, fmt.Errorf("flow %s revision %d: %w", rev.Key, rev.Revision, err)
	}
	var err error
	if rev.Flow, err = db.secrets().OpenFlow(rev.Key, rev.Flow); err != nil {
		return nil, err
	}
	return &rev, nil
}

const flowRevisionColumns = `r.flow_key, r.revision, r.definition::text, r.created_at`

// FindFlow implements backend.FlowService.
func (db *DB) FindFlow(ctx context.Context, key string) (*backend.FlowRevision, error) {
	return one(ctx, db.pool, db.scanFlowRevision, backend.Errorf(backend.ENotFound, "Channel %s has no flow of its own.", key),
		`SELECT `+flowRevisionColumns+` FROM flows f JOIN flow_revisions r ON r.flow_key = f.flow_key AND r.revision = f.revision
		WHERE f.flow_key = $1`, key)
}

// FindFlowRevision implements backend.FlowService.
func (db *DB) FindFlowRevision(ctx context.Context, key string, revision int) (*backend.FlowRevision, error) {
	return one(ctx, db.pool, db.scanFlowRevision, backend.Errorf(backend.ENotFound, "Flow %s has no revision %d.", key, revision),
		`SELECT `+flowRevisionColumns+` FROM flow_revisions r WHERE r.flow_key = $1 AND r.revision = $2`, key, revision)
}

// FindFlows implements backend.FlowService.
func (db *DB) FindFlows(ctx context.Context) ([]*backend.FlowRevision, error) {
	out, err := collect(ctx, db.pool, db.scanFlowRevision, `SELECT `+flowRevisionColumns+`
		FROM flows f JOIN flow_revisions r ON r.flow_key = f.flow_key AND r.revision = f.revision ORDER BY f.flow_key`)
	if err != nil {
		return nil, fmt.Errorf("find flows: %w", err)
	}
	return nonNil(out), nil
}

// DeleteFlow implements backend.FlowService.
func (db *DB) DeleteFlow(ctx context.Context, key string) error {
	return db.update(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM flows WHERE flow_key = $1`, key)
		if err != nil {
			return fmt.Errorf("delete flow: %w", err)
		} else if tag.RowsAffected() == 0 {
			return backend.Errorf(backend.ENotFound, "Channel %s has no flow of its own.", key)
		}
		return tx.AppendEvent(ctx, backend.EventFlowDeleted, key, map[string]string{"key": key})
	})
}

func scanFlowExecution(s scanner) (*backend.FlowExecution, error) {
	var x backend.FlowExecution
	var version int64
	if err := s.Scan(&x, &version); err != nil {
		return nil, err
	}
	x.Version = version
	return &x, nil
}

func findFlowExecution(ctx context.Context, q querier, conversationID string) (*backend.FlowExecution, error) {
	return one(ctx, q, scanFlowExecution, backend.Errorf(backend.ENotFound, "Conversation %s has no flow execution.", conversationID),
		`SELECT data, version FROM flow_executions WHERE conversation_id = $1`, conversationID)
}

// FindFlowExecution implements backend.FlowService.
func (db *DB) FindFlowExecution(ctx context.Context, conversationID string) (*backend.FlowExecution, error) {
	return findFlowExecution(ctx, db.pool, conversationID)
}

// PutFlowExecution implements storetx.FlowTx. A running execution records
// this node as its runner, so another node takes it over at once when this
// one is gone (RunningFlowExecutions).
func (s steps) PutFlowExecution(ctx context.Context, x *backend.FlowExecution, version int64) (bool, error) {
	args := []any{x.ConversationID, x.ID, x.Status, tz(storekit.FlowDeadline(x)), s.db.node, x.Version, x}
	sql := `INSERT INTO flow_executions (conversation_id, id, status, deadline, node, version, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (conversation_id) DO NOTHING`
	if version > 0 {
		sql, args = `UPDATE flow_executions SET id = $2, status = $3, deadline = $4, node = $5, version = $6, data = $7
			WHERE conversation_id = $1 AND version = $8`, append(args, version)
	}
	tag, err := s.Exec(ctx, sql, args...)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

// DueFlowExecutions implements backend.FlowService.
func (db *DB) DueFlowExecutions(ctx context.Context, now time.Time, limit int) ([]*backend.FlowExecution, error) {
	if limit <= 0 {
		limit = 100
	}
	return db.flowExecutions(ctx, `SELECT data, version FROM flow_executions WHERE deadline <= $1 ORDER BY deadline LIMIT $2`, now, limit)
}

// RunningFlowExecutions implements backend.FlowService: the running
// executions whose runner is gone (on several nodes, a live node's run is
// its own to finish).
func (db *DB) RunningFlowExecutions(ctx context.Context, limit int) ([]*backend.FlowExecution, error) {
	if limit <= 0 {
		limit = 100
	}
	return db.flowExecutions(ctx, `SELECT data, version FROM flow_executions WHERE status = 'running'
		AND (node IS NULL OR node NOT IN `+liveNodes+`) ORDER BY deadline LIMIT $1`, limit)
}

func (db *DB) flowExecutions(ctx context.Context, sql string, args ...any) ([]*backend.FlowExecution, error) {
	out, err := collect(ctx, db.pool, scanFlowExecution, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("flow executions: %w", err)
	}
	return out, nil
}

// NextFlowDeadline implements backend.FlowService.
func (db *DB) NextFlowDeadline(ctx context.Context) (time.Time, bool, error) {
	var t time.Time
	if err := db.pool.QueryRow(ctx, `SELECT MIN(deadline) FROM flow_executions`).Scan(at{&t}); err != nil {
		return time.Time{}, false, fmt.Errorf("next flow deadline: %w", err)
	}
	return t, !t.IsZero(), nil
}
