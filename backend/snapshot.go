package backend

import (
	"context"
	"time"
)

// A new desktop does not replay the whole change log: it reads a snapshot
// of what its user may see (conversations with their recent messages,
// contacts, tasks, flow state and the other entities on the feed), then
// follows the feed from the snapshot's sequence. The engine prunes events
// every desktop has read; a desktop whose cursor fell below the pruned
// floor takes the snapshot again.

// SnapshotRequest says what a sync snapshot holds.
type SnapshotRequest struct {
	// ReaderID, when set, limits the conversations to those the user may
	// read (AccessService.ReadableConversations); empty means all of them
	// (supervisors and admins).
	ReaderID string
	// Messages is how many of each conversation's most recent messages it
	// holds (at least 1).
	Messages int
}

// SnapshotStart is what a snapshot says before its entities.
type SnapshotStart struct {
	// Seq is the change feed's sequence the snapshot is consistent with:
	// a reader follows the feed from it.
	Seq int64
	// Readable maps the conversations ReaderID may read to their contact
	// (nil when the request named no reader).
	Readable map[string]string
	// Conversations is how many conversations follow.
	Conversations int
}

// SnapshotSink receives a snapshot as the store reads it: Start once, then
// the entities as events in order: the latest event of every entity the
// feed carries besides conversations (workers, queues, tasks, offers,
// calls, …, with their own sequence), then, for a request without a
// reader, every contact, then each conversation, newest first, as its
// contact (for a reader), itself, its recent messages (oldest first) and
// its flow execution (these without a sequence). An error from either func
// stops the read and is returned.
type SnapshotSink struct {
	Start func(SnapshotStart) error
	Event func(Event) error
}

// PruneRequest says which events a store may delete.
type PruneRequest struct {
	// Grace keeps every event newer than Now-Grace, so readers in the
	// engine that follow the feed near its head never lose one.
	Grace time.Duration
	// Retention deletes every event older than Now-Retention, whether or
	// not every desktop has read it.
	Retention time.Duration
	// Now is the instant Grace and Retention count back from.
	Now time.Time
}

// PruneResult says what a prune did.
type PruneResult struct {
	// Deleted counts the events deleted.
	Deleted int64
	// Floor is the feed's floor afterwards: a reader whose cursor is below
	// it has missed deleted events and must take a snapshot.
	Floor int64
}

// SnapshotService reads sync snapshots and keeps the change log short.
type SnapshotService interface {
	// SyncSnapshot reads, in one read transaction, the newest sequence and
	// everything the request covers as it stood at that sequence, handing
	// each piece to sink as it is read (nothing is gathered in memory).
	SyncSnapshot(ctx context.Context, req SnapshotRequest, sink SnapshotSink) error
	// RecordFeedCursor remembers that the session named sessionID (its
	// Session.ID) has read the change feed up to seq.
	RecordFeedCursor(ctx context.Context, sessionID string, seq int64) error
	// FeedFloor returns the feed's floor: events at or below it may have
	// been deleted (0 when none were).
	FeedFloor(ctx context.Context) (int64, error)
	// PruneEvents deletes the events every live session's desktop has read
	// and that are older than the grace period, and the events older than
	// the retention horizon regardless. It keeps the newest event, and of
	// the entities a snapshot reads from the log rather than from their
	// tables (types not in SnapshotTableTypes) the latest event of each.
	PruneEvents(ctx context.Context, req PruneRequest) (PruneResult, error)
}

// SnapshotTableTypes lists the event types a snapshot reads from the
// entities' own tables (and the access events it needs no more); every
// other type a snapshot takes from the log, as the latest event of each
// entity.
var SnapshotTableTypes = []string{
	EventContactUpserted, EventConversationUpserted, EventMessageUpserted, EventFlowExecutionUpserted,
	EventAccessChanged, EventConversationRemoved, EventSessionRevoked,
}
