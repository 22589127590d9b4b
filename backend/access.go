package backend

import "context"

// Access levels an agent holds on a conversation. Supervisors and admins
// read and act on every conversation and need none.
const (
	// AccessOwner: the agent holds the conversation's task (an accepted or
	// wrapping reservation). Only the owner may write to it.
	AccessOwner = "owner"
	// AccessOffered: the conversation's task is offered to the agent.
	AccessOffered = "offered"
	// AccessQueue: the conversation's task waits in a queue the agent
	// serves (the agent's worker matches the queue's target).
	AccessQueue = "queue"
	// AccessAssigned: the agent completed the conversation's task and
	// stays its assignee until someone else takes it; they may still work
	// on it (a follow-up, a status).
	AccessAssigned = "assigned"
	// AccessContact: another conversation of the same customer is owned
	// by, offered or assigned to the agent, and nobody holds this one: it
	// is the customer's history.
	AccessContact = "contact"
)

// AccessRank orders the levels a routing decision hands out, so the
// strongest wins when a conversation has several open tasks.
func AccessRank(level string) int {
	switch level {
	case AccessOwner:
		return 3
	case AccessOffered:
		return 2
	case AccessQueue:
		return 1
	}
	return 0
}

// Feed events about access and sessions.
const (
	// EventAccessChanged carries an AccessChange: who gained and who lost
	// read access to which conversations in one commit. The change feed
	// never hands it out as it is: it turns a grant into the conversation
	// with its history and a loss into EventConversationRemoved for the
	// user concerned.
	EventAccessChanged = "access.changed"
	// EventConversationRemoved tells one user's desktop to drop a
	// conversation (its messages, notes and tasks) from its cache. Its
	// entity id is the conversation id. It exists only in a user's feed.
	EventConversationRemoved = "conversation.removed"
	// EventSessionRevoked carries a SessionRevocation; the live feed closes
	// the sockets of the sessions it names. It never leaves the engine.
	EventSessionRevoked = "session.revoked"
)

// AccessGrant names one user and one conversation.
type AccessGrant struct {
	UserID         string `json:"userId"`
	ConversationID string `json:"conversationId"`
}

// AccessChange is the data of EventAccessChanged.
type AccessChange struct {
	Granted []AccessGrant `json:"granted,omitempty"`
	Revoked []AccessGrant `json:"revoked,omitempty"`
}

// Empty reports whether nothing changed.
func (c *AccessChange) Empty() bool { return len(c.Granted)+len(c.Revoked) == 0 }

// SessionRevocation is the data of EventSessionRevoked: the named sessions
// of a user, or all of them (but Except) when All is set.
type SessionRevocation struct {
	UserID     string   `json:"userId"`
	SessionIDs []string `json:"sessionIds,omitempty"`
	All        bool     `json:"all,omitempty"`
	Except     string   `json:"except,omitempty"`
	// Reason says why, for the log: "signed out", "password changed",
	// "disabled", "signed out everywhere", "expired".
	Reason string `json:"reason"`
}

// Covers reports whether the revocation ends session id of user.
func (r *SessionRevocation) Covers(userID, sessionID string) bool {
	if r.UserID != userID {
		return false
	}
	if r.All {
		return sessionID != r.Except
	}
	for _, id := range r.SessionIDs {
		if id == sessionID {
			return true
		}
	}
	return false
}

// ConversationAccess is who works on a conversation as routing sees it:
// Users maps a user id to AccessOwner, AccessOffered or AccessQueue.
// Finished names the user who just completed its task: they stay its
// assignee (AccessAssigned) until someone else holds it.
type ConversationAccess struct {
	ConversationID string
	Users          map[string]string
	Finished       string
}

// AccessService answers what the access policy needs to know about a
// conversation and keeps it in step with routing.
type AccessService interface {
	// ConversationAccess returns the levels userID holds on a
	// conversation (none when the user may not read it).
	ConversationAccess(ctx context.Context, userID, conversationID string) ([]string, error)
	// HoldsCustomer reports whether userID holds or is assigned another
	// conversation of the customer of conversationID (so they may answer
	// on this one too).
	HoldsCustomer(ctx context.Context, userID, conversationID string) (bool, error)
	// ContactReadable reports whether userID may read any conversation of
	// the contact.
	ContactReadable(ctx context.Context, userID, contactID string) (bool, error)
	// ReadableConversations maps every conversation userID may read to its
	// contact id.
	ReadableConversations(ctx context.Context, userID string) (map[string]string, error)
	// ConversationSnapshot returns a conversation with its history as
	// change-feed events (without sequence numbers): the contact, the
	// conversation, every message and note, its flow execution and its
	// open tasks. Returns ENotFound.
	ConversationSnapshot(ctx context.Context, conversationID string) ([]Event, error)
}
