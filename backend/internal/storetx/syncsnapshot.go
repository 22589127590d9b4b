package storetx

import (
	"context"
	"encoding/json"
	"slices"

	"switchboard/backend"
)

// SyncSnapshotReader is the reads of a desktop's sync snapshot, all through
// one read transaction of the store, so every piece agrees with the
// sequence it reports. Conversations are read in chunks of
// SnapshotChunk, a few queries per chunk rather than per conversation.
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
	// ConversationsByID returns those of the conversations ids that
	// exist, in any order.
	ConversationsByID(ctx context.Context, ids []string) ([]*backend.Conversation, error)
	// ContactsByID returns those of the contacts ids that exist, in any
	// order.
	ContactsByID(ctx context.Context, ids []string) ([]*backend.Contact, error)
	// RecentMessagesOf returns the newest n messages of each of the
	// conversations ids, in one query: a conversation's messages together,
	// oldest first.
	RecentMessagesOf(ctx context.Context, ids []string, n int) ([]*backend.Message, error)
	// FlowExecutionsOf returns the flow executions of those of the
	// conversations ids that have one, in any order.
	FlowExecutionsOf(ctx context.Context, ids []string) ([]*backend.FlowExecution, error)
}

// SnapshotChunk is how many conversations (or contacts) a snapshot reads
// at once: few queries, and a bounded number of messages in memory.
const SnapshotChunk = 128

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
		for chunk := range slices.Chunk(ids, SnapshotChunk) {
			contacts, err := contactsByID(ctx, r, chunk)
			if err != nil {
				return err
			}
			for _, id := range chunk {
				if ct := contacts[id]; ct != nil {
					if err := emit(backend.EventContactUpserted, ct.ID, ct); err != nil {
						return err
					}
				}
			}
		}
	}
	for chunk := range slices.Chunk(convs, SnapshotChunk) {
		if err := snapshotConversations(ctx, r, chunk, max(req.Messages, 1), !everyone, emit); err != nil {
			return err
		}
	}
	return nil
}

// contactsByID reads the contacts ids into a map by id.
func contactsByID(ctx context.Context, r SyncSnapshotReader, ids []string) (map[string]*backend.Contact, error) {
	list, err := r.ContactsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*backend.Contact, len(list))
	for _, ct := range list {
		out[ct.ID] = ct
	}
	return out, nil
}

// snapshotConversations emits a chunk of conversations in the order of
// ids, each as its contact (withContact), itself, its recent messages and
// its flow execution. Conversations that are gone are left out.
func snapshotConversations(ctx context.Context, r SyncSnapshotReader, ids []string, messages int, withContact bool, emit func(typ, id string, v any) error) error {
	list, err := r.ConversationsByID(ctx, ids)
	if err != nil {
		return err
	}
	convs := make(map[string]*backend.Conversation, len(list))
	var contactIDs []string
	for _, c := range list {
		convs[c.ID] = c
		contactIDs = append(contactIDs, c.ContactID)
	}
	var contacts map[string]*backend.Contact
	if withContact {
		slices.Sort(contactIDs)
		if contacts, err = contactsByID(ctx, r, slices.Compact(contactIDs)); err != nil {
			return err
		}
	}
	msgs, err := r.RecentMessagesOf(ctx, ids, messages)
	if err != nil {
		return err
	}
	byConv := make(map[string][]*backend.Message, len(ids))
	for _, m := range msgs {
		byConv[m.ConversationID] = append(byConv[m.ConversationID], m)
	}
	flows, err := r.FlowExecutionsOf(ctx, ids)
	if err != nil {
		return err
	}
	flowOf := make(map[string]*backend.FlowExecution, len(flows))
	for _, x := range flows {
		flowOf[x.ConversationID] = x
	}
	for _, id := range ids {
		conv := convs[id]
		if conv == nil {
			continue // access to a conversation that is gone
		}
		if ct := contacts[conv.ContactID]; ct != nil {
			if err := emit(backend.EventContactUpserted, ct.ID, ct); err != nil {
				return err
			}
		}
		if err := emit(backend.EventConversationUpserted, conv.ID, conv); err != nil {
			return err
		}
		for _, m := range byConv[id] {
			if err := emit(backend.EventMessageUpserted, m.ID, m); err != nil {
				return err
			}
		}
		if x := flowOf[id]; x != nil {
			if err := emit(backend.EventFlowExecutionUpserted, id, x.Event()); err != nil {
				return err
			}
		}
	}
	return nil
}
