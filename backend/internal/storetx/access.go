package storetx

import (
	"context"
	"maps"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// AccessTx is the steps that keep the conversation_access table (see
// storekit) and the queue groups (access_group.go) in step with routing
// and with the customers' conversations.
type AccessTx interface {
	Tx
	// RoutedConversations returns the conversations that have a level
	// routing hands out (storekit.RoutedLevels) or name a queue group.
	RoutedConversations(ctx context.Context) ([]string, error)
	// ContactsOf returns the customers of the conversations, sorted.
	ContactsOf(ctx context.Context, conversationIDs []string) ([]string, error)
	// ConversationsOf returns the conversations of the contacts.
	ConversationsOf(ctx context.Context, contacts []string) ([]string, error)
	// Readers returns who may read the conversations now: the users with
	// an access row and each conversation's queue group.
	Readers(ctx context.Context, conversationIDs []string) (*Readers, error)
	// GroupMembers returns the members of a queue group.
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
	// InGroup reports whether user is a member of a queue group.
	InGroup(ctx context.Context, groupID, user string) (bool, error)
	// ConversationGroup returns the queue group a conversation names, or "".
	ConversationGroup(ctx context.Context, conversationID string) (string, error)
	// StoreGroup stores a queue group's members unless it is stored
	// already.
	StoreGroup(ctx context.Context, groupID string, members []string) error
	// SetConversationGroup makes the conversation name a queue group
	// ("" names none).
	SetConversationGroup(ctx context.Context, conversationID, groupID string) error
	// DropGroup deletes a queue group unless a conversation names it.
	DropGroup(ctx context.Context, groupID string) error
	// RoutedAccess returns the conversation's users with a level routing
	// hands out (user → level) and how many such rows it has.
	RoutedAccess(ctx context.Context, conversationID string) (map[string]string, int, error)
	// RefreshHistory gives everyone who holds, is offered or is assigned
	// one of a customer's conversations read access to the customer's
	// other conversations that nobody holds (storekit.HolderLevels), and
	// takes it from everyone else.
	RefreshHistory(ctx context.Context, contactID string) error
	// ClearRoutedAccess removes a conversation's routed levels.
	ClearRoutedAccess(ctx context.Context, conversationID string) error
	// GrantAccess gives each user their level (user → level) on the
	// conversation.
	GrantAccess(ctx context.Context, conversationID string, users map[string]string) error
	// EndAssignments removes the assigned level of everyone on the
	// conversation but holder.
	EndAssignments(ctx context.Context, conversationID, holder string) error
	// KeepAssignment gives user the assigned level on the conversation
	// (nothing when they have it).
	KeepAssignment(ctx context.Context, conversationID, user string) error
	// FirstAssigned returns the first by id of the conversation's
	// assigned users, or "".
	FirstAssigned(ctx context.Context, conversationID string) (string, error)
	// SetAssignee makes userID the conversation's assignee and returns
	// the conversation, or nil when it already was.
	SetAssignee(ctx context.Context, conversationID, userID string) (*backend.Conversation, error)
}

// SaveAccess records who works on each conversation of a routing decision
// (all of them when complete), keeps the customers' history access and the
// conversations' assignees in step, and appends the access event.
func SaveAccess(ctx context.Context, tx AccessTx, list []*backend.ConversationAccess, complete bool) error {
	if len(list) == 0 && !complete {
		return nil
	}
	var stale []string
	if complete {
		var err error
		if stale, err = tx.RoutedConversations(ctx); err != nil {
			return err
		}
	}
	plan := storekit.PlanAccess(list, complete, stale)
	ids := plan.Conversations()
	scope, err := beginAccess(ctx, tx, ids)
	if err != nil {
		return err
	}
	var oldGroups []string
	for _, id := range ids {
		if err := setDirectAccess(ctx, tx, id, plan.Users[id], plan.Finished[id]); err != nil {
			return err
		}
		old, err := setGroup(ctx, tx, id, plan.Users[id])
		if err != nil {
			return err
		} else if old != "" {
			oldGroups = append(oldGroups, old)
		}
	}
	if err := scope.finish(ctx, tx); err != nil {
		return err
	}
	if err := dropGroups(ctx, tx, oldGroups); err != nil {
		return err
	}
	for _, id := range ids {
		assignee := storekit.Owner(plan.Users[id])
		if assignee == "" {
			if assignee, err = tx.FirstAssigned(ctx, id); err != nil {
				return err
			}
		}
		if err := setAssignee(ctx, tx, id, assignee); err != nil {
			return err
		}
	}
	return nil
}

// setDirectAccess replaces the routing levels of one conversation but the
// queue level (setGroup keeps it). Who finished it stays assigned; a new
// holder ends everyone else's assignment.
func setDirectAccess(ctx context.Context, tx AccessTx, conversationID string, users map[string]string, finished string) error {
	if err := replaceRouted(ctx, tx, conversationID, users); err != nil {
		return err
	}
	if holder := storekit.Owner(users); holder != "" {
		if err := tx.EndAssignments(ctx, conversationID, holder); err != nil {
			return err
		}
	}
	if finished != "" {
		return tx.KeepAssignment(ctx, conversationID, finished)
	}
	return nil
}

// replaceRouted makes the conversation's owner and offered rows those of
// users, writing nothing when they are already.
func replaceRouted(ctx context.Context, tx AccessTx, conversationID string, users map[string]string) error {
	want := map[string]string{}
	for user, level := range users {
		if level != backend.AccessQueue {
			want[user] = level
		}
	}
	have, rows, err := tx.RoutedAccess(ctx, conversationID)
	if err != nil || (rows == len(have) && maps.Equal(have, want)) {
		return err
	}
	if err := tx.ClearRoutedAccess(ctx, conversationID); err != nil {
		return err
	}
	return tx.GrantAccess(ctx, conversationID, want)
}

// setAssignee records who holds a conversation and tells the feed.
func setAssignee(ctx context.Context, tx AccessTx, conversationID, userID string) error {
	c, err := tx.SetAssignee(ctx, conversationID, userID)
	if err != nil || c == nil {
		return err
	}
	return tx.AppendEvent(ctx, backend.EventConversationUpserted, c.ID, c)
}

// accessScope remembers who could read a set of conversations before a
// change, so finish can tell the feed who gained and who lost them.
type accessScope struct {
	convs    []string
	contacts []string
	before   *Readers
}

// beginAccess opens a scope over conversations and every other
// conversation of their customers.
func beginAccess(ctx context.Context, tx AccessTx, conversationIDs []string) (*accessScope, error) {
	contacts, err := tx.ContactsOf(ctx, conversationIDs)
	if err != nil {
		return nil, err
	}
	return beginContactAccess(ctx, tx, contacts, conversationIDs)
}

// beginContactAccess locks the contacts (where the store needs it) and
// opens a scope over their conversations and the extra ones.
func beginContactAccess(ctx context.Context, tx AccessTx, contacts, extra []string) (*accessScope, error) {
	names := make([]string, len(contacts))
	for i, c := range contacts {
		names[i] = "contact:" + c
	}
	if _, err := tx.Lock(ctx, names...); err != nil {
		return nil, err
	}
	s := &accessScope{contacts: contacts}
	convs, err := tx.ConversationsOf(ctx, contacts)
	if err != nil {
		return nil, err
	}
	s.convs = append(convs, extra...)
	if len(s.convs) == 0 {
		s.before = &Readers{Direct: map[backend.AccessGrant]bool{}, Group: map[string]string{}}
		return s, nil
	}
	s.before, err = tx.Readers(ctx, s.convs)
	return s, err
}

// finish recomputes the customers' history access and appends an
// access.changed event when anyone gained or lost a conversation.
func (s *accessScope) finish(ctx context.Context, tx AccessTx) error {
	for _, contact := range s.contacts {
		if err := tx.RefreshHistory(ctx, contact); err != nil {
			return err
		}
	}
	after, err := tx.Readers(ctx, s.convs)
	if err != nil {
		return err
	}
	ch, err := readerChange(ctx, tx, s.before, after)
	if err != nil || ch == nil {
		return err
	}
	return tx.AppendEvent(ctx, backend.EventAccessChanged, "", ch)
}

// WithContactAccess runs fn, which changes which conversations belong to
// the contacts, and keeps their history access in step.
func WithContactAccess(ctx context.Context, tx AccessTx, contacts []string, fn func() error) error {
	s, err := beginContactAccess(ctx, tx, contacts, nil)
	if err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	if len(s.convs) == 0 {
		// The customers had no conversation, so nobody read one of theirs
		// and nobody reads a new one yet: no one's access changes.
		return nil
	}
	now, err := tx.ConversationsOf(ctx, contacts)
	if err != nil {
		return err
	}
	s.convs = append(s.convs, now...) // a new conversation joins the scope
	return s.finish(ctx, tx)
}
