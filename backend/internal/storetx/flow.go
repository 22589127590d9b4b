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
	// PutFlowExecution writes x, whose Version is already the new one, if
	// the stored execution of its conversation is still at version (0:
	// none is stored), and reports whether it did.
	PutFlowExecution(ctx context.Context, x *backend.FlowExecution, version int64) (bool, error)
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

// SaveFlowExecution implements backend.FlowService.
func (w Writes) SaveFlowExecution(ctx context.Context, x *backend.FlowExecution, version int64) error {
	return w.SaveFlowStep(ctx, x, version, nil)
}

// SaveFlowStep implements backend.FlowStepService: the execution first, so
// a lost compare-and-set stores no reply, then the replies, in the one
// transaction.
func (w Writes) SaveFlowStep(ctx context.Context, x *backend.FlowExecution, version int64, replies []*backend.OutboundMessage) error {
	if err := storekit.CheckFlowExecution(x); err != nil {
		return err
	}
	for _, r := range replies {
		if r.ConversationID != x.ConversationID {
			return backend.Errorf(backend.EInvalid, "A flow's reply belongs in the flow's conversation %s.", x.ConversationID)
		}
		if err := storekit.CheckOutbound(r); err != nil {
			return err
		}
	}
	var saved *backend.FlowExecution
	err := w.Update(ctx, func(tx Steps) (err error) {
		if saved, err = SaveFlowExecution(ctx, tx, x, version); err != nil {
			return err
		}
		for _, r := range replies {
			if _, _, err := StoreOutbound(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	x.Version, x.UpdatedAt, x.CreatedAt = saved.Version, saved.UpdatedAt, saved.CreatedAt
	return nil
}

// SaveFlowExecution writes a copy of x as the next version after version
// (compare-and-set: EConflict when the stored one moved on) and returns
// the copy. Only a settled execution goes on the change feed: a running
// one is the runner's business until it saves the outcome.
func SaveFlowExecution(ctx context.Context, tx FlowTx, x *backend.FlowExecution, version int64) (*backend.FlowExecution, error) {
	saved := *x
	saved.Version = version + 1
	saved.UpdatedAt = tx.Now()
	if saved.CreatedAt.IsZero() {
		saved.CreatedAt = tx.Now()
	}
	ok, err := tx.PutFlowExecution(ctx, &saved, version)
	if err != nil {
		return nil, fmt.Errorf("save flow execution: %w", err)
	} else if !ok {
		return nil, backend.Errorf(backend.EConflict, "The flow of conversation %s moved on meanwhile.", x.ConversationID)
	}
	if saved.Status != backend.FlowRunning {
		if err := tx.AppendEvent(ctx, backend.EventFlowExecutionUpserted, saved.ConversationID, saved.Event()); err != nil {
			return nil, err
		}
	}
	return &saved, nil
}
