package storetx

import (
	"context"
	"encoding/json"

	"switchboard/backend"
)

// SyncSnapshotReader is the reads of a desktop's sync snapshot, all through
// one read transaction of the store, so every piece agrees with the
// sequence it reports.
type SyncSnapshotReader interface {
	// LastSeq returns the newest committed sequence.
	LastSeq(ctx context.Context) (int64, error)
	// SnapshotConversations returns the conversations readerID may read
	// (every conversation when readerID is ""), newest message first, and
	// for a reader the map of what they may read to its contact, as
	// AccessService.ReadableConversations gives it.
	SnapshotConversations(ctx context.Context, readerID string) ([]string, map[string]string, error)
	// ContactIDs lists every contact.
	ContactIDs(ctx context.Context) ([]string, error)
	// LatestEvents hands emit, in log order, the latest event up to seq of
	// every entity whose event type is not in backend.SnapshotTableTypes.
	LatestEvents(ctx context.Context, seq int64, emit func(backend.Event) error) error
	// FindConversation returns the conversation, or ENotFound.
	FindConversation(ctx context.Context, id string) (*backend.Conversation, error)
	// FindContact returns a contact, or ENotFound.
	FindContact(ctx context.Context, id string) (*backend.Contact, error)
	// RecentMessages returns the conversation's newest n messages, oldest
	// first.
	RecentMessages(ctx context.Context, conversationID string, n int) ([]*backend.Message, error)
	// FindFlowExecution returns the conversation's flow execution, or
	// ENotFound.
	FindFlowExecution(ctx context.Context, conversationID string) (*backend.FlowExecution, error)
}

// SyncSnapshot reads a sync snapshot through r and hands it to sink (see
// backend.SnapshotSink for the order).
func SyncSnapshot(ctx context.Context, r SyncSnapshotReader, req backend.SnapshotRequest, sink backend.SnapshotSink) error {
	seq, err := r.LastSeq(ctx)
	if err != nil {
		return err
	}
	convs, readable, err := r.SnapshotConversations(ctx, req.ReaderID)
	if err != nil {
		return err
	}
	if err := sink.Start(backend.SnapshotStart{Seq: seq, Readable: readable, Conversations: len(convs)}); err != nil {
		return err
	}
	if err := r.LatestEvents(ctx, seq, sink.Event); err != nil {
		return err
	}
	emit := func(typ, id string, v any) error {
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return sink.Event(backend.Event{Type: typ, EntityID: id, Data: data})
	}
	// Who reads every conversation reads every contact, with or without
	// a conversation; a reader gets those of their conversations.
	everyone := req.ReaderID == ""
	if everyone {
		ids, err := r.ContactIDs(ctx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			ct, err := r.FindContact(ctx, id)
			if err != nil {
				return err
			}
			if err := emit(backend.EventContactUpserted, ct.ID, ct); err != nil {
				return err
			}
		}
	}
	for _, id := range convs {
		if err := snapshotConversation(ctx, r, id, max(req.Messages, 1), !everyone, emit); err != nil {
			return err
		}
	}
	return nil
}

// snapshotConversation emits one conversation: its contact (withContact),
// itself, its recent messages and its flow execution.
func snapshotConversation(ctx context.Context, r SyncSnapshotReader, id string, messages int, withContact bool, emit func(typ, id string, v any) error) error {
	conv, err := r.FindConversation(ctx, id)
	if backend.ErrorCode(err) == backend.ENotFound {
		return nil // access to a conversation that is gone
	} else if err != nil {
		return err
	}
	if withContact {
		if ct, err := r.FindContact(ctx, conv.ContactID); err == nil {
			if err := emit(backend.EventContactUpserted, ct.ID, ct); err != nil {
				return err
			}
		} else if backend.ErrorCode(err) != backend.ENotFound {
			return err
		}
	}
	if err := emit(backend.EventConversationUpserted, conv.ID, conv); err != nil {
		return err
	}
	msgs, err := r.RecentMessages(ctx, id, messages)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if err := emit(backend.EventMessageUpserted, m.ID, m); err != nil {
			return err
		}
	}
	if x, err := r.FindFlowExecution(ctx, id); err == nil {
		return emit(backend.EventFlowExecutionUpserted, id, x.Event())
	} else if backend.ErrorCode(err) != backend.ENotFound {
		return err
	}
	return nil
}
