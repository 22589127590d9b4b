package storetx

import (
	"context"
	"encoding/json"

	"switchboard/backend"
)

// SnapshotReader is the reads of a conversation's snapshot, all through
// one read transaction of the store, so the pieces agree.
type SnapshotReader interface {
	// FindConversation returns the conversation, or ENotFound.
	FindConversation(ctx context.Context, id string) (*backend.Conversation, error)
	// FindContact returns a contact, or ENotFound.
	FindContact(ctx context.Context, id string) (*backend.Contact, error)
	// FindMessages returns the conversation's messages in order.
	FindMessages(ctx context.Context, conversationID string) ([]*backend.Message, error)
	// FindOpenTasks returns the conversation's tasks that are neither
	// completed nor canceled.
	FindOpenTasks(ctx context.Context, conversationID string) ([]*backend.Task, error)
	// FindFlowExecution returns the conversation's flow execution, or
	// ENotFound.
	FindFlowExecution(ctx context.Context, conversationID string) (*backend.FlowExecution, error)
}

// ConversationSnapshot returns the events that bring a reader up to date
// on one conversation: its contact, itself, its messages, its open tasks
// and its flow execution.
func ConversationSnapshot(ctx context.Context, r SnapshotReader, conversationID string) ([]backend.Event, error) {
	conv, err := r.FindConversation(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	var out []backend.Event
	add := func(typ, id string, v any) error {
		data, err := json.Marshal(v)
		out = append(out, backend.Event{Type: typ, EntityID: id, Data: data})
		return err
	}
	if ct, err := r.FindContact(ctx, conv.ContactID); err == nil {
		if err := add(backend.EventContactUpserted, ct.ID, ct); err != nil {
			return nil, err
		}
	} else if backend.ErrorCode(err) != backend.ENotFound {
		return nil, err
	}
	if err := add(backend.EventConversationUpserted, conv.ID, conv); err != nil {
		return nil, err
	}
	msgs, err := r.FindMessages(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if err := add(backend.EventMessageUpserted, m.ID, m); err != nil {
			return nil, err
		}
	}
	tasks, err := r.FindOpenTasks(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	for _, t := range tasks {
		if err := add(backend.EventTaskUpserted, t.ID, t); err != nil {
			return nil, err
		}
	}
	if x, err := r.FindFlowExecution(ctx, conversationID); err == nil {
		if err := add(backend.EventFlowExecutionUpserted, conversationID, x.Event()); err != nil {
			return nil, err
		}
	} else if backend.ErrorCode(err) != backend.ENotFound {
		return nil, err
	}
	return out, nil
}
