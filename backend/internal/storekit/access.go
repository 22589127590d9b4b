package storekit

import (
	"sort"

	"switchboard/backend"
)

// Both stores keep a conversation_access table: who, besides supervisors
// and admins, may read each conversation. Routing hands out owner, offered
// and queue; who completed a conversation's task stays assigned; the
// customer's other conversations are their history (contact). Every change
// happens in the transaction that caused it, with one access.changed event.

// RoutedLevels are the levels routing hands out and replaces on each report.
var RoutedLevels = []string{backend.AccessOwner, backend.AccessOffered, backend.AccessQueue}

// HolderLevels are the levels that make a customer's other conversations
// readable as history.
var HolderLevels = []string{backend.AccessOwner, backend.AccessOffered, backend.AccessAssigned}

// Owner returns the user holding a conversation ("" for nobody; the first
// by id when two open tasks are held by different people).
func Owner(users map[string]string) string {
	var out string
	for user, level := range users {
		if level == backend.AccessOwner && (out == "" || user < out) {
			out = user
		}
	}
	return out
}

// AccessPlan is one routing report's access, by conversation.
type AccessPlan struct {
	// Users maps a conversation to who works on it (nil: nobody).
	Users map[string]map[string]string
	// Finished maps a conversation to who just completed its task.
	Finished map[string]string
}

// PlanAccess groups a routing change's access by conversation; with
// complete, every conversation in stale that the change does not list gets
// nobody.
func PlanAccess(list []*backend.ConversationAccess, complete bool, stale []string) *AccessPlan {
	p := &AccessPlan{Users: map[string]map[string]string{}, Finished: map[string]string{}}
	for _, a := range list {
		p.Users[a.ConversationID], p.Finished[a.ConversationID] = a.Users, a.Finished
	}
	if complete {
		for _, id := range stale {
			if _, ok := p.Users[id]; !ok {
				p.Users[id] = nil
			}
		}
	}
	return p
}

// Conversations returns the plan's conversations, sorted.
func (p *AccessPlan) Conversations() []string {
	ids := make([]string, 0, len(p.Users))
	for id := range p.Users {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// AccessDiff returns who gained and who lost a conversation between two
// sets of readers (nil when nobody did), sorted.
func AccessDiff(before, after map[backend.AccessGrant]bool) *backend.AccessChange {
	var ch backend.AccessChange
	for g := range after {
		if !before[g] {
			ch.Granted = append(ch.Granted, g)
		}
	}
	for g := range before {
		if !after[g] {
			ch.Revoked = append(ch.Revoked, g)
		}
	}
	if ch.Empty() {
		return nil
	}
	sortGrants(ch.Granted)
	sortGrants(ch.Revoked)
	return &ch
}

func sortGrants(gs []backend.AccessGrant) {
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].UserID != gs[j].UserID {
			return gs[i].UserID < gs[j].UserID
		}
		return gs[i].ConversationID < gs[j].ConversationID
	})
}
