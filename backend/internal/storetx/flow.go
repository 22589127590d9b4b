package storetx

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// FlowTx is the steps that store a channel's flow.
type FlowTx interface {
	Tx
	// InsertFlowRevision stores the next revision of the flow under key
	// (its definition sealed) and returns its number.
	InsertFlowRevision(ctx context.Context, key, sealedDef string, at time.Time) (int, error)
	// SetCurrentFlow makes the revision the flow's current one.
	SetCurrentFlow(ctx context.Context, key string, revision int, at time.Time) error
}

// PutFlow implements backend.FlowService: HTTP widget headers are stored
// sealed and carried redacted on the feed.
func (w Writes) PutFlow(ctx context.Context, key string, f *backend.Flow) (*backend.FlowRevision, error) {
	if err := storekit.CheckFlowPut(key, f); err != nil {
		return nil, err
	}
	def, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("marshal flow: %w", err)
	}
	sealedFlow, err := w.Secrets().SealFlow(key, f)
	if err != nil {
		return nil, err
	}
	sealedDef, err := json.Marshal(sealedFlow)
	if err != nil {
		return nil, fmt.Errorf("marshal flow: %w", err)
	}
	var rev *backend.FlowRevision
	err = w.Update(ctx, func(tx Steps) (err error) {
		rev, err = putFlow(ctx, tx, key, def, string(sealedDef))
		return err
	})
	if err != nil {
		return nil, err
	}
	return rev, nil
}

// putFlow stores a new revision of the flow (def, and sealedDef as
// stored) and makes it current.
func putFlow(ctx context.Context, tx FlowTx, key string, def []byte, sealedDef string) (*backend.FlowRevision, error) {
	rev := &backend.FlowRevision{Key: key, CreatedAt: tx.Now()}
	if err := json.Unmarshal(def, &rev.Flow); err != nil { // a copy the caller cannot change
		return nil, err
	}
	var err error
	if rev.Revision, err = tx.InsertFlowRevision(ctx, key, sealedDef, rev.CreatedAt); err != nil {
		return nil, err
	}
	if err := tx.SetCurrentFlow(ctx, key, rev.Revision, rev.CreatedAt); err != nil {
		return nil, err
	}
	shown := *rev
	shown.Flow = rev.Flow.Redacted()
	return rev, tx.AppendEvent(ctx, backend.EventFlowUpserted, key, &shown)
}
