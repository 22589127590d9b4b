package backend

import (
	"context"
	"time"
)

// Conversation statuses.
const (
	StatusOpen     = "open"
	StatusPending  = "pending"
	StatusSnoozed  = "snoozed"
	StatusResolved = "resolved"
)

// Conversation is one thread with a contact on one channel instance.
type Conversation struct {
	ID        string `json:"id"`
	ContactID string `json:"contactId"`
	// Channel is the connector id, such as "sms.twilio" or "webchat".
	Channel string `json:"channel"`
	// Instance names one configured account of that connector.
	Instance string `json:"instance"`
	// ThreadKey is the platform's key for the thread (chat id, phone pair…).
	ThreadKey     string    `json:"threadKey"`
	Status        string    `json:"status"`
	Subject       string    `json:"subject,omitempty"`
	AssigneeID    string    `json:"assigneeId,omitempty"`
	LastMessageAt time.Time `json:"lastMessageAt"`
	// LastMessageText is a short preview of the newest message.
	LastMessageText string `json:"lastMessageText"`
	// Labels are the ids of the labels put on the conversation.
	Labels    []string  `json:"labels,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ConversationFilter narrows FindConversations. Empty fields match all.
type ConversationFilter struct {
	ContactID string
	Status    string
	Channel   string
	// VisibleTo, when set, keeps only the conversations that user may read
	// by their access levels (for agents).
	VisibleTo string
	Limit     int
}

// ConversationService manages conversations.
type ConversationService interface {
	// FindConversationByID returns one conversation. Returns ENotFound.
	FindConversationByID(ctx context.Context, id string) (*Conversation, error)
	// FindConversations lists conversations, newest activity first.
	FindConversations(ctx context.Context, f ConversationFilter) ([]*Conversation, error)
	// SetConversationStatus changes the status. Returns ENotFound or EInvalid.
	SetConversationStatus(ctx context.Context, id, status string) (*Conversation, error)
}
