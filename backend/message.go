package backend

import (
	"context"
	"encoding/json"
	"time"
)

// Message directions.
const (
	DirectionIn  = "in"
	DirectionOut = "out"
)

// Delivery states of a message. Outbound messages only move forward through
// queued < sent < delivered < read; failed is terminal. Inbound messages are
// received.
const (
	DeliveryReceived  = "received"
	DeliveryQueued    = "queued"
	DeliverySent      = "sent"
	DeliveryDelivered = "delivered"
	DeliveryRead      = "read"
	DeliveryFailed    = "failed"
)

// DeliveryRank orders delivery states so updates only move forward. Failed
// ranks highest: once failed, a late "sent" does not revive a message.
func DeliveryRank(status string) int {
	switch status {
	case DeliveryQueued:
		return 1
	case DeliverySent:
		return 2
	case DeliveryDelivered:
		return 3
	case DeliveryRead:
		return 4
	case DeliveryFailed:
		return 5
	}
	return 0
}

// Attachment is a file sent with a message.
type Attachment struct {
	URL  string `json:"url"`
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
	Size int64  `json:"size,omitempty"`
}

// Message is one message in a conversation, in either direction.
type Message struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversationId"`
	ContactID      string `json:"contactId"`
	Direction      string `json:"direction"`
	// AuthorID is the user who wrote an outbound message ("" for bots).
	AuthorID   string `json:"authorId,omitempty"`
	AuthorName string `json:"authorName,omitempty"`
	Text       string `json:"text"`
	// Private marks a note between agents that never reaches the customer.
	Private     bool         `json:"private,omitempty"`
	Attachments []Attachment `json:"attachments"`
	// ExternalID is the platform's message id; (channel, instance,
	// ExternalID) is unique so a redelivered webhook is stored once.
	ExternalID string `json:"externalId,omitempty"`
	// ClientID is the sender's idempotency key for outbound messages.
	ClientID string `json:"clientId,omitempty"`
	Status   string `json:"status"`
	Error    string `json:"error,omitempty"`
	// PlatformAt is the platform's timestamp when it sends one.
	PlatformAt time.Time `json:"platformAt,omitzero"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// At is when the message was written, as people see it: the platform's
// time when it gave one (never later than the engine stored the message,
// so a platform clock running ahead cannot put it in the future), else
// the engine's.
func (m *Message) At() time.Time {
	if !m.PlatformAt.IsZero() && m.PlatformAt.Before(m.CreatedAt) {
		return m.PlatformAt
	}
	return m.CreatedAt
}

// InboundMessage is a normalized message from a channel connector.
type InboundMessage struct {
	Channel        string
	Instance       string
	ExternalUserID string
	DisplayName    string
	ThreadKey      string
	ExternalID     string
	Text           string
	Subject        string
	Attachments    []Attachment
	PlatformAt     time.Time
	// Raw is the payload as received, kept for audit.
	Raw json.RawMessage
}

// OutboundMessage is an agent's (or bot's) reply to a conversation.
type OutboundMessage struct {
	ConversationID string
	AuthorID       string
	AuthorName     string
	Text           string
	Private        bool
	Attachments    []Attachment
	// ClientID makes the send idempotent: the same ClientID twice returns
	// the first message.
	ClientID string
}

// MessageService stores messages.
type MessageService interface {
	// StoreInbound resolves the contact, finds or opens the conversation and
	// stores the message, all in one transaction. Created is false when the
	// platform message id was stored before (a redelivery). An attachment
	// URL that CheckAttachmentURL refuses is dropped (SafeAttachments).
	StoreInbound(ctx context.Context, in *InboundMessage) (m *Message, created bool, err error)
	// StoreOutbound records an outbound message as queued. Returns ENotFound
	// for an unknown conversation, and EInvalid for empty text or an
	// attachment URL CheckAttachmentURL refuses.
	StoreOutbound(ctx context.Context, out *OutboundMessage) (m *Message, created bool, err error)
	// FindMessages lists a conversation's messages, oldest first.
	FindMessages(ctx context.Context, conversationID string) ([]*Message, error)
	// FindMessageByID returns one message. Returns ENotFound.
	FindMessageByID(ctx context.Context, id string) (*Message, error)
	// SetDeliveryStatus moves a message's delivery state forward; a state
	// that is not ahead of the current one is ignored (no error).
	SetDeliveryStatus(ctx context.Context, id, status, reason string) (*Message, error)
}
