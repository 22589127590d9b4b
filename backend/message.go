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

// Attachment is a file sent with a message. A file the engine keeps is
// named by its own path (/media/{id}); while it is still being fetched
// from the platform, or when that failed, State and Error say so.
type Attachment struct {
	URL  string `json:"url"`
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
	Size int64  `json:"size,omitempty"`
	// State is MediaFetching or MediaFailed for a kept file that cannot be
	// read yet or at all; empty when the file is there (or not kept).
	State string `json:"state,omitempty"`
	// Error says why a file could not be fetched or kept.
	Error string `json:"error,omitempty"`
	// Ref is a connector's reference to a file the platform holds (a
	// URL that needs the instance's credentials, a media id, a file id):
	// the engine keeps the attachment as a file to fetch with it. Never
	// shown or stored with the message.
	Ref string `json:"-"`
	// Data is a file that came inside the message (an email's part),
	// which the engine keeps as it stores the message. Never shown.
	Data []byte `json:"-"`
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
	// Cc lists the other people a message went to besides the business
	// and its author (an email's To and Cc); on a reply, who is copied.
	Cc []string `json:"cc,omitempty"`
	// Problem says what the engine could not read of an inbound message
	// (kept anyway, with what could be read and, for email, the original).
	Problem string `json:"problem,omitempty"`
	// Automatic marks an inbound message sent by a program rather than a
	// person (an out-of-office reply, a bounce): no bot answers it.
	Automatic bool      `json:"automatic,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
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
	// Cc, Problem and Automatic are as on Message.
	Cc        []string
	Problem   string
	Automatic bool
	// Refs are the platform ids of earlier messages this one answers
	// (an email's In-Reply-To and References): when one of them is
	// stored, the message joins that message's thread whatever ThreadKey
	// says.
	Refs []string
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
	// Cc, on channels that copy people (email), names who is copied; nil
	// lets the connector copy everyone on the thread (reply all).
	Cc []string
	// ClientID makes the send idempotent: the same ClientID twice returns
	// the first message.
	ClientID string
}

// MessageService stores messages.
type MessageService interface {
	// StoreInbound resolves the contact, finds or opens the conversation and
	// stores the message, all in one transaction. Created is false when the
	// platform message id was stored before (a redelivery). An attachment
	// URL that CheckAttachmentURL refuses is dropped (SafeAttachments). An
	// attachment with Data (or a data: URL) is kept at once, one with a Ref
	// is kept as a file to fetch (MediaService), and a web chat upload of
	// the instance becomes a kept file of the conversation; each then
	// names its /media/{id}.
	StoreInbound(ctx context.Context, in *InboundMessage) (m *Message, created bool, err error)
	// StoreOutbound records an outbound message as queued. Returns ENotFound
	// for an unknown conversation, and EInvalid for empty text, an
	// attachment URL CheckAttachmentURL refuses or a kept file (/media/{id})
	// of another conversation. A kept file's name, type and size come from
	// the store, and the file becomes the message's.
	StoreOutbound(ctx context.Context, out *OutboundMessage) (m *Message, created bool, err error)
	// FindMessages lists a conversation's messages, oldest first.
	FindMessages(ctx context.Context, conversationID string) ([]*Message, error)
	// FindMessageByID returns one message. Returns ENotFound.
	FindMessageByID(ctx context.Context, id string) (*Message, error)
	// SetDeliveryStatus moves a message's delivery state forward; a state
	// that is not ahead of the current one is ignored (no error).
	SetDeliveryStatus(ctx context.Context, id, status, reason string) (*Message, error)
}
