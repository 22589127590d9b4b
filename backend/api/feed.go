package api

import (
	"context"
	"encoding/json"
	"time"

	"switchboard/backend"
)

// The change feed is per user: sync pages and WebSocket frames carry only
// the events the Policy lets the user read. When a user gains a
// conversation (offered, transferred or assigned to them, or waiting in a
// queue they now serve) the feed brings it with its history, at the
// position of the access event; when they lose it, the feed says
// conversation.removed so the desktop drops it from its cache.

// feedStore is what the feed reads.
type feedStore interface {
	backend.EventService
	backend.AccessService
}

// loadAccess returns what u may read now.
func loadAccess(ctx context.Context, store feedStore, u backend.User, workerID string) (*feedAccess, error) {
	var convs map[string]string
	if !privileged(&u) {
		var err error
		if convs, err = store.ReadableConversations(ctx, u.ID); err != nil {
			return nil, err
		}
	}
	return newFeedAccess(u, workerID, convs), nil
}

// snapshot returns a conversation with its history as events at the
// position of the access event e, and the conversation's contact. A
// conversation that does not exist (a task naming none) has none.
func snapshot(ctx context.Context, store feedStore, conv string, at *backend.Event) ([]backend.Event, string, error) {
	events, err := store.ConversationSnapshot(ctx, conv)
	if backend.ErrorCode(err) == backend.ENotFound {
		return nil, "", nil
	} else if err != nil {
		return nil, "", err
	}
	var contact string
	for i := range events {
		events[i].Seq, events[i].CreatedAt = at.Seq, at.CreatedAt
		if events[i].Type == backend.EventConversationUpserted {
			contact = classify(&events[i]).contact
		}
	}
	return events, contact, nil
}

// removed is the event that tells one user's desktop to drop conv.
func removed(conv string, at *backend.Event) backend.Event {
	data, _ := json.Marshal(map[string]string{"id": conv})
	return backend.Event{Seq: at.Seq, Type: backend.EventConversationRemoved, EntityID: conv, Data: data, CreatedAt: at.CreatedAt}
}

// accessChange decodes an access.changed event.
func accessChange(e *backend.Event) *backend.AccessChange {
	var ch backend.AccessChange
	json.Unmarshal(e.Data, &ch)
	return &ch
}

// filterPage turns a page of the change log into what acc's user may see,
// judged by what they may read now (acc must be read after the page, so
// it already reflects every access event in it). A grant brings the
// conversation once (at its last grant in the page) when the user still
// holds it; a loss removes it when the user no longer does. Events of a
// conversation the user has since lost are left out: a later loss removes
// it anyway.
func filterPage(ctx context.Context, store feedStore, acc *feedAccess, events []backend.Event) ([]backend.Event, error) {
	out := []backend.Event{}
	lastGrant, lastLoss := map[string]int64{}, map[string]int64{}
	changes := map[int64]*backend.AccessChange{}
	if !privileged(&acc.user) {
		for i := range events {
			if events[i].Type != backend.EventAccessChanged {
				continue
			}
			ch := accessChange(&events[i])
			changes[events[i].Seq] = ch
			for _, g := range ch.Granted {
				if g.UserID == acc.user.ID {
					lastGrant[g.ConversationID] = events[i].Seq
				}
			}
			for _, g := range ch.Revoked {
				if g.UserID == acc.user.ID {
					lastLoss[g.ConversationID] = events[i].Seq
				}
			}
		}
	}
	for i := range events {
		e := &events[i]
		ch := changes[e.Seq]
		if ch == nil {
			if acc.canSee(e) {
				out = append(out, *e)
			}
			continue
		}
		for _, g := range ch.Granted {
			if _, holds := acc.convs[g.ConversationID]; g.UserID == acc.user.ID && holds && lastGrant[g.ConversationID] == e.Seq {
				snap, _, err := snapshot(ctx, store, g.ConversationID, e)
				if err != nil {
					return nil, err
				}
				out = append(out, snap...)
			}
		}
		for _, g := range ch.Revoked {
			if _, holds := acc.convs[g.ConversationID]; g.UserID == acc.user.ID && !holds && lastLoss[g.ConversationID] == e.Seq {
				out = append(out, removed(g.ConversationID, e))
			}
		}
	}
	return out, nil
}

// readPage reads up to limit events after since (and not after until, when
// until > 0), then the user's access, and filters the page. next is the
// log position the page reached; more says whether the log goes on.
func readPage(ctx context.Context, store feedStore, u backend.User, workerID string, since, until int64, limit int) (out []backend.Event, acc *feedAccess, next int64, more bool, err error) {
	events, err := store.EventsSince(ctx, since, limit+1)
	if err != nil {
		return nil, nil, since, false, err
	}
	if until > 0 {
		for i, e := range events {
			if e.Seq > until {
				events = events[:i]
				break
			}
		}
	}
	if len(events) > limit {
		events, more = events[:limit], true
	}
	next = since
	if n := len(events); n > 0 {
		next = events[n-1].Seq
	}
	if acc, err = loadAccess(ctx, store, u, workerID); err != nil {
		return nil, nil, since, false, err
	}
	out, err = filterPage(ctx, store, acc, events)
	return out, acc, next, more, err
}

// sessionCheckEvery is how often the live feed re-checks the sessions of
// open sockets (renewing them: an open socket is a session in use).
const sessionCheckEvery = time.Minute
