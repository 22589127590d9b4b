package backend

import (
	"context"
	"encoding/json"
	"time"
)

// Event names on the change feed. Each event carries the whole entity after
// the change, so a client applies it by upserting.
const (
	EventContactUpserted      = "contact.upserted"
	EventConversationUpserted = "conversation.upserted"
	EventMessageUpserted      = "message.upserted"
	EventUserUpserted         = "user.upserted"
)

// Event is one entry of the append-only change log. Seq is strictly
// increasing and has no gaps visible to readers once committed.
type Event struct {
	Seq       int64           `json:"seq"`
	Type      string          `json:"type"`
	EntityID  string          `json:"entityId"`
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"createdAt"`
}

// FeedIdentity names the change feed a client follows. EngineID is made
// when the store is created, so a replaced store has another; Epoch is new
// whenever the feed's sequence starts over. A client that sees either
// change, or the feed's newest sequence fall below its own cursor (a store
// restored from an older backup), must drop what it applied and start
// again from sequence 0.
type FeedIdentity struct {
	EngineID string `json:"engineId"`
	Epoch    string `json:"epoch"`
}

// EventService reads the change log.
type EventService interface {
	// FeedIdentity returns the identity of this store's change feed.
	FeedIdentity(ctx context.Context) (FeedIdentity, error)
	// EventsSince returns up to limit events with Seq > since, in order.
	EventsSince(ctx context.Context, since int64, limit int) ([]Event, error)
	// LastSeq returns the newest committed sequence (0 when empty).
	LastSeq(ctx context.Context) (int64, error)
	// Notify returns a channel that receives a value (coalesced) after
	// every commit that appended events. Close the returned func to stop.
	Notify() (<-chan struct{}, func())
}
