package flow

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"switchboard/backend"
)

var _ backend.FlowService = (*MemStore)(nil)

// MemStore is an in-memory backend.FlowService for dry runs (the flow test
// command), tests and benchmarks. It copies what it stores, like a real
// store would.
type MemStore struct {
	mu         sync.Mutex
	revisions  map[string][]*backend.FlowRevision
	current    map[string]int
	executions map[string][]byte // conversation id → JSON
	versions   map[string]int64
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{revisions: map[string][]*backend.FlowRevision{}, current: map[string]int{},
		executions: map[string][]byte{}, versions: map[string]int64{}}
}

// PutFlow implements backend.FlowService.
func (m *MemStore) PutFlow(_ context.Context, key string, f *backend.Flow) (*backend.FlowRevision, error) {
	if key == "" || f == nil {
		return nil, backend.Errorf(backend.EInvalid, "A flow needs a channel instance and a definition.")
	}
	c, err := cloneFlow(f)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rev := &backend.FlowRevision{Key: key, Revision: len(m.revisions[key]) + 1, Flow: c, CreatedAt: time.Now().UTC()}
	m.revisions[key] = append(m.revisions[key], rev)
	m.current[key] = rev.Revision
	return copyRevision(rev), nil
}

func copyRevision(r *backend.FlowRevision) *backend.FlowRevision {
	c := *r
	c.Flow, _ = cloneFlow(r.Flow)
	return &c
}

// FindFlow implements backend.FlowService.
func (m *MemStore) FindFlow(ctx context.Context, key string) (*backend.FlowRevision, error) {
	m.mu.Lock()
	n := m.current[key]
	m.mu.Unlock()
	if n == 0 {
		return nil, backend.Errorf(backend.ENotFound, "Channel %s has no flow of its own.", key)
	}
	return m.FindFlowRevision(ctx, key, n)
}

// FindFlowRevision implements backend.FlowService.
func (m *MemStore) FindFlowRevision(_ context.Context, key string, revision int) (*backend.FlowRevision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	revs := m.revisions[key]
	if revision < 1 || revision > len(revs) {
		return nil, backend.Errorf(backend.ENotFound, "Flow %s has no revision %d.", key, revision)
	}
	return copyRevision(revs[revision-1]), nil
}

// FindFlows implements backend.FlowService.
func (m *MemStore) FindFlows(ctx context.Context) ([]*backend.FlowRevision, error) {
	m.mu.Lock()
	var keys []string
	for k, n := range m.current {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	m.mu.Unlock()
	sort.Strings(keys)
	out := []*backend.FlowRevision{}
	for _, k := range keys {
		r, err := m.FindFlow(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// DeleteFlow implements backend.FlowService.
func (m *MemStore) DeleteFlow(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.current[key] == 0 {
		return backend.Errorf(backend.ENotFound, "Channel %s has no flow of its own.", key)
	}
	m.current[key] = 0
	return nil
}

// FindFlowExecution implements backend.FlowService.
func (m *MemStore) FindFlowExecution(_ context.Context, conversationID string) (*backend.FlowExecution, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.executions[conversationID]
	if !ok {
		return nil, backend.Errorf(backend.ENotFound, "Conversation %s has no flow execution.", conversationID)
	}
	return m.decode(conversationID, b)
}

func (m *MemStore) decode(conversationID string, b []byte) (*backend.FlowExecution, error) {
	var x backend.FlowExecution
	if err := json.Unmarshal(b, &x); err != nil {
		return nil, err
	}
	x.Version = m.versions[conversationID]
	return &x, nil
}

// SaveFlowExecution implements backend.FlowService.
func (m *MemStore) SaveFlowExecution(_ context.Context, x *backend.FlowExecution, version int64) error {
	if x.ConversationID == "" || x.ID == "" {
		return backend.Errorf(backend.EInvalid, "A flow execution needs an id and a conversation.")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.versions[x.ConversationID] != version {
		return backend.Errorf(backend.EConflict, "The flow of conversation %s moved on meanwhile.", x.ConversationID)
	}
	saved := *x
	saved.Version = version + 1
	saved.UpdatedAt = time.Now().UTC()
	if saved.CreatedAt.IsZero() {
		saved.CreatedAt = saved.UpdatedAt
	}
	b, err := json.Marshal(&saved)
	if err != nil {
		return err
	}
	m.executions[x.ConversationID] = b
	m.versions[x.ConversationID] = saved.Version
	x.Version, x.UpdatedAt, x.CreatedAt = saved.Version, saved.UpdatedAt, saved.CreatedAt
	return nil
}

func deadlineOf(x *backend.FlowExecution) time.Time {
	switch x.Status {
	case backend.FlowWaiting:
		return x.TimeoutAt
	case backend.FlowRunning:
		return x.LeaseUntil
	}
	return time.Time{}
}

// DueFlowExecutions implements backend.FlowService.
func (m *MemStore) DueFlowExecutions(_ context.Context, now time.Time, limit int) ([]*backend.FlowExecution, error) {
	all, err := m.all()
	if err != nil {
		return nil, err
	}
	var out []*backend.FlowExecution
	for _, x := range all {
		if d := deadlineOf(x); !d.IsZero() && !d.After(now) {
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return deadlineOf(out[i]).Before(deadlineOf(out[j])) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// RunningFlowExecutions implements backend.FlowService.
func (m *MemStore) RunningFlowExecutions(_ context.Context, limit int) ([]*backend.FlowExecution, error) {
	all, err := m.all()
	if err != nil {
		return nil, err
	}
	var out []*backend.FlowExecution
	for _, x := range all {
		if x.Status == backend.FlowRunning && (limit <= 0 || len(out) < limit) {
			out = append(out, x)
		}
	}
	return out, nil
}

// NextFlowDeadline implements backend.FlowService.
func (m *MemStore) NextFlowDeadline(context.Context) (time.Time, bool, error) {
	all, err := m.all()
	if err != nil {
		return time.Time{}, false, err
	}
	var at time.Time
	for _, x := range all {
		if d := deadlineOf(x); !d.IsZero() && (at.IsZero() || d.Before(at)) {
			at = d
		}
	}
	return at, !at.IsZero(), nil
}

func (m *MemStore) all() ([]*backend.FlowExecution, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*backend.FlowExecution, 0, len(m.executions))
	for id, b := range m.executions {
		x, err := m.decode(id, b)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}
