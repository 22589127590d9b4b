package backend

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEntry records one change an admin (or supervisor) made to the
// workspace's settings: who, what, when. Secrets never appear in it.
type AuditEntry struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	UserID   string    `json:"userId"`
	UserName string    `json:"userName"`
	// Action names the change, such as "channel.update" or "queue.delete".
	Action     string `json:"action"`
	EntityType string `json:"entityType"`
	EntityID   string `json:"entityId"`
	// Summary is a sentence for people.
	Summary string `json:"summary"`
	// Details holds what changed (field names, new values without secrets).
	Details json.RawMessage `json:"details,omitempty"`
}

// AuditFilter narrows FindAudit: entries older than Before (0: newest), at
// most Limit of them, optionally of one entity type.
type AuditFilter struct {
	Before     int64
	Limit      int
	EntityType string
}

// AuditService keeps the audit log.
type AuditService interface {
	// AppendAudit stores an entry and sets its Seq and At.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// FindAudit lists entries newest first.
	FindAudit(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
}

// Label event names on the change feed.
const (
	// EventLabelUpserted carries a Label.
	EventLabelUpserted = "label.upserted"
	// EventLabelDeleted carries {"id"}.
	EventLabelDeleted = "label.deleted"
	// EventCannedDeleted carries {"id"} of a removed canned response.
	EventCannedDeleted = "canned.deleted"
)

// Label tags conversations ("billing", "vip", "bug") so the inbox can be
// filtered on them.
type Label struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Color       string    `json:"color,omitempty"`
	Description string    `json:"description,omitempty"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// LabelService manages labels and puts them on conversations.
type LabelService interface {
	// PutLabel creates or replaces a label. Returns EInvalid for an empty
	// name or a bad color and EConflict for a name in use.
	PutLabel(ctx context.Context, l *Label) error
	// FindLabels lists labels by name.
	FindLabels(ctx context.Context) ([]*Label, error)
	// DeleteLabel removes a label and takes it off every conversation.
	// Returns ENotFound.
	DeleteLabel(ctx context.Context, id string) error
	// SetConversationLabels replaces a conversation's labels. Returns
	// ENotFound for the conversation and EInvalid for an unknown label.
	SetConversationLabels(ctx context.Context, conversationID string, labelIDs []string) (*Conversation, error)
	// DeleteCannedResponse removes a canned response. Returns ENotFound.
	DeleteCannedResponse(ctx context.Context, id string) error
}

// Invite is a one-time invitation to join the workspace.
type Invite struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	InvitedBy string    `json:"invitedBy"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	// AcceptedAt is set once the invitation made an account.
	AcceptedAt time.Time `json:"acceptedAt,omitzero"`
	UserID     string    `json:"userId,omitempty"`
}

// InviteTTL is how long an invitation link stays valid.
const InviteTTL = 7 * 24 * time.Hour

// InviteService manages invitations and the first-run account.
type InviteService interface {
	// CreateInvite stores an invitation and returns its one-time token.
	// Returns EInvalid for a bad email or role and EConflict when a user
	// already has the email.
	CreateInvite(ctx context.Context, inv *Invite) (token string, err error)
	// FindInvites lists invitations not yet accepted, newest first.
	FindInvites(ctx context.Context) ([]*Invite, error)
	// InviteByToken returns the invitation a token opens. Returns
	// ENotFound for an unknown, used or expired token.
	InviteByToken(ctx context.Context, token string) (*Invite, error)
	// AcceptInvite creates the invited user with password and spends the
	// token, in one transaction. Returns ENotFound like InviteByToken and
	// EInvalid for a short password.
	AcceptInvite(ctx context.Context, token, name, password string) (*User, error)
	// DeleteInvite withdraws an invitation. Returns ENotFound.
	DeleteInvite(ctx context.Context, id string) error
	// CreateFirstAdmin creates an admin only while the workspace has no
	// user at all. Returns EConflict once any user exists.
	CreateFirstAdmin(ctx context.Context, u *User, password string) error
	// CountUsers returns how many users exist.
	CountUsers(ctx context.Context) (int, error)
}
