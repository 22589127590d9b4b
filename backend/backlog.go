package backend

import (
	"context"
	"time"
)

// Backlog is the work a store holds that a stage has not done yet.
type Backlog struct {
	// OutboxDue counts outbound jobs whose attempt is due (or whose
	// sender's lease ran out); OutboxOldestDue is when the oldest of them
	// became due (zero with none).
	OutboxDue       int
	OutboxOldestDue time.Time
	// TasksWaiting counts routing tasks no worker holds yet;
	// TasksOldest is when the oldest of them was created.
	TasksWaiting int
	TasksOldest  time.Time
	// LastSeq is the change feed's newest sequence.
	LastSeq int64
}

// BacklogReader reads a store's backlog, for the engine's metrics.
type BacklogReader interface {
	// Backlog returns the pending work at now.
	Backlog(ctx context.Context, now time.Time) (Backlog, error)
}
