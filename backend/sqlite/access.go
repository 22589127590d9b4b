package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sort"

	"switchboard/backend"
)

// The conversation_readers view holds who, besides supervisors and admins,
// may read each conversation: the levels routing hands out (owner and
// offered in conversation_access, queue through the conversation's access
// group, access_group.go), who completed it (assigned) and the customer's
// history (contact). Every change to them happens in the transaction that
// caused it and appends one access.changed event, so the change feed knows
// who gained and who lost a conversation at that point of the log.

// ConversationAccess implements backend.AccessService.
func (db *DB) ConversationAccess(ctx context.Context, userID, conversationID string) ([]string, error) {
	levels, err := stringList(ctx, db.r, `SELECT level FROM conversation_readers WHERE conversation_id = ? AND user_id = ? ORDER BY level`,
		conversationID, userID)
	if err != nil {
		return nil, fmt.Errorf("conversation access: %w", err)
	}
	return levels, nil
}

// HoldsCustomer implements backend.AccessService.
func (db *DB) HoldsCustomer(ctx context.Context, userID, conversationID string) (bool, error) {
	return exists(ctx, db.r, "customer access", `SELECT 1 FROM conversation_access a JOIN conversations c ON c.id = a.conversation_id
		WHERE a.user_id = ?1 AND a.level IN ('owner', 'assigned') AND a.conversation_id <> ?2
			AND c.contact_id = (SELECT contact_id FROM conversations WHERE id = ?2)`, userID, conversationID)
}

// ContactReadable implements backend.AccessService.
func (db *DB) ContactReadable(ctx context.Context, userID, contactID string) (bool, error) {
	return exists(ctx, db.r, "contact access", `SELECT 1 FROM conversation_readers a JOIN conversations c ON c.id = a.conversation_id
		WHERE a.user_id = ? AND c.contact_id = ?`, userID, contactID)
}

// exists reports whether query finds a row.
func exists(ctx context.Context, q queryer, what, query string, args ...any) (bool, error) {
	var ok bool
	if err := q.QueryRowContext(ctx, `SELECT EXISTS (`+query+`)`, args...).Scan(&ok); err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	return ok, nil
}

// ReadableConversations implements backend.AccessService.
func (db *DB) ReadableConversations(ctx context.Context, userID string) (map[string]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT DISTINCT a.conversation_id, COALESCE(c.contact_id, '')
		FROM conversation_readers a LEFT JOIN conversations c ON c.id = a.conversation_id WHERE a.user_id = ?`, userID)
	if err != nil {
		return nil, fmt.Errorf("readable conversations: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var conv, contact string
		if err := rows.Scan(&conv, &contact); err != nil {
			return nil, err
		}
		out[conv] = contact
	}
	return out, rows.Err()
}

// ConversationSnapshot implements backend.AccessService.
func (db *DB) ConversationSnapshot(ctx context.Context, conversationID string) ([]backend.Event, error) {
	tx, err := db.r.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	conv, err := findConversation(ctx, tx, conversationID)
	if err != nil {
		return nil, err
	}
	var out []backend.Event
	add := func(typ, id string, v any) error {
		data, err := json.Marshal(v)
		out = append(out, backend.Event{Type: typ, EntityID: id, Data: data})
		return err
	}
	if ct, err := findContact(ctx, tx, conv.ContactID); err == nil {
		if err := add(backend.EventContactUpserted, ct.ID, ct); err != nil {
			return nil, err
		}
	} else if backend.ErrorCode(err) != backend.ENotFound {
		return nil, err
	}
	if err := add(backend.EventConversationUpserted, conv.ID, conv); err != nil {
		return nil, err
	}
	msgs, err := findMessages(ctx, tx, conversationID)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if err := add(backend.EventMessageUpserted, m.ID, m); err != nil {
			return nil, err
		}
	}
	tasks, err := findTasks(ctx, tx, `conversation_id = ? AND state NOT IN ('completed', 'canceled')`, conversationID)
	if err != nil {
		return nil, err
	}
	for _, t := range tasks {
		if err := add(backend.EventTaskUpserted, t.ID, t); err != nil {
			return nil, err
		}
	}
	if x, err := findFlowExecution(ctx, tx, conversationID); err == nil {
		if err := add(backend.EventFlowExecutionUpserted, conversationID, x); err != nil {
			return nil, err
		}
	} else if backend.ErrorCode(err) != backend.ENotFound {
		return nil, err
	}
	return out, nil
}

// saveAccess records who works on each conversation of a routing decision
// (all of them when complete), keeps the customers' history access and the
// conversations' assignees in step, and appends the access event.
func saveAccess(ctx context.Context, tx *Tx, list []*backend.ConversationAccess, complete bool) error {
	if len(list) == 0 && !complete {
		return nil
	}
	byConv, finished := map[string]map[string]string{}, map[string]string{}
	for _, a := range list {
		byConv[a.ConversationID], finished[a.ConversationID] = a.Users, a.Finished
	}
	if complete {
		stale, err := stringList(ctx, tx, `SELECT conversation_id FROM conversation_access WHERE level IN `+routedLevels+`
			UNION SELECT conversation_id FROM conversation_access_groups`)
		if err != nil {
			return err
		}
		for _, id := range stale {
			if _, ok := byConv[id]; !ok {
				byConv[id] = nil
			}
		}
	}
	ids := make([]string, 0, len(byConv))
	for id := range byConv {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	scope, err := beginAccess(ctx, tx, ids)
	if err != nil {
		return err
	}
	var oldGroups []string
	for _, id := range ids {
		if err := setDirectAccess(ctx, tx, id, byConv[id], finished[id]); err != nil {
			return err
		}
		old, err := setGroup(ctx, tx, id, byConv[id])
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
		assignee := owner(byConv[id])
		if assignee == "" {
			if assigned, err := stringList(ctx, tx, `SELECT user_id FROM conversation_access WHERE conversation_id = ? AND level = 'assigned'
				ORDER BY user_id LIMIT 1`, id); err != nil {
				return err
			} else if len(assigned) == 1 {
				assignee = assigned[0]
			}
		}
		if err := setAssignee(ctx, tx, id, assignee); err != nil {
			return err
		}
	}
	return nil
}

// routedLevels are the levels routing hands out and replaces on each
// report (queue is kept by group since migration 0720); holderLevels those that make a customer's other conversations
// readable as history.
const (
	routedLevels = `('owner', 'offered', 'queue')`
	holderLevels = `('owner', 'offered', 'assigned')`
)

// setDirectAccess replaces the routing levels of one conversation but the
// queue level (setGroup keeps it). Who finished it stays assigned; a new
// holder ends everyone else's assignment.
func setDirectAccess(ctx context.Context, tx *Tx, conversationID string, users map[string]string, finished string) error {
	if err := replaceRouted(ctx, tx, conversationID, users); err != nil {
		return err
	}
	if holder := owner(users); holder != "" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM conversation_access WHERE conversation_id = ? AND level = 'assigned' AND user_id <> ?`,
			conversationID, holder); err != nil {
			return fmt.Errorf("end assignment: %w", err)
		}
	}
	if finished != "" {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO conversation_access (conversation_id, user_id, level) VALUES (?, ?, 'assigned')`,
			conversationID, finished); err != nil {
			return fmt.Errorf("keep assignment: %w", err)
		}
	}
	return nil
}

// replaceRouted makes the conversation's owner and offered rows those of
// users, writing nothing when they are already.
func replaceRouted(ctx context.Context, tx *Tx, conversationID string, users map[string]string) error {
	want := map[string]string{}
	for user, level := range users {
		if level != backend.AccessQueue {
			want[user] = level
		}
	}
	have, n := map[string]string{}, 0
	err := scanPairs(ctx, tx, `SELECT user_id, level FROM conversation_access WHERE conversation_id = ? AND level IN `+routedLevels,
		conversationID, func(user, level string) { have[user], n = level, n+1 })
	if err != nil {
		return fmt.Errorf("read access: %w", err)
	}
	if n == len(have) && maps.Equal(have, want) {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM conversation_access WHERE conversation_id = ? AND level IN `+routedLevels, conversationID); err != nil {
		return fmt.Errorf("clear access: %w", err)
	}
	for user, level := range want {
		if _, err := tx.ExecContext(ctx, `INSERT INTO conversation_access (conversation_id, user_id, level) VALUES (?, ?, ?)`,
			conversationID, user, level); err != nil {
			return fmt.Errorf("grant access: %w", err)
		}
	}
	return nil
}

// owner returns the user holding a conversation ("" for nobody; the first
// by id when two open tasks are held by different people).
func owner(users map[string]string) string {
	var out string
	for user, level := range users {
		if level == backend.AccessOwner && (out == "" || user < out) {
			out = user
		}
	}
	return out
}

// setAssignee records who holds a conversation and tells the feed.
func setAssignee(ctx context.Context, tx *Tx, conversationID, userID string) error {
	res, err := tx.ExecContext(ctx, `UPDATE conversations SET assignee_id = ?, updated_at = ? WHERE id = ? AND assignee_id <> ?`,
		userID, formatTime(tx.Now()), conversationID, userID)
	if err != nil {
		return fmt.Errorf("set assignee: %w", err)
	} else if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	c, err := findConversation(ctx, tx, conversationID)
	if err != nil {
		return err
	}
	return tx.AppendEvent(ctx, backend.EventConversationUpserted, c.ID, c)
}

// accessScope remembers who could read a set of conversations before a
// change, so finish can tell the feed who gained and who lost them.
type accessScope struct {
	convs    []string
	contacts []string
	before   *readerState
}

// beginAccess opens a scope over conversations and every other
// conversation of their customers.
func beginAccess(ctx context.Context, tx *Tx, conversationIDs []string) (*accessScope, error) {
	list, _ := json.Marshal(conversationIDs)
	contacts, err := stringList(ctx, tx, `SELECT DISTINCT contact_id FROM conversations WHERE id IN (SELECT value FROM json_each(?)) ORDER BY contact_id`, string(list))
	if err != nil {
		return nil, err
	}
	return beginContactAccess(ctx, tx, contacts, conversationIDs)
}

// beginContactAccess opens a scope over the conversations of contacts and
// the extra ones.
func beginContactAccess(ctx context.Context, tx *Tx, contacts, extra []string) (*accessScope, error) {
	s := &accessScope{contacts: contacts}
	cl, _ := json.Marshal(contacts)
	convs, err := stringList(ctx, tx, `SELECT id FROM conversations WHERE contact_id IN (SELECT value FROM json_each(?))`, string(cl))
	if err != nil {
		return nil, err
	}
	s.convs = append(convs, extra...)
	s.before, err = readersOf(ctx, tx, s.convs)
	return s, err
}

// finish recomputes the customers' history access and appends an
// access.changed event when anyone gained or lost a conversation.
func (s *accessScope) finish(ctx context.Context, tx *Tx) error {
	for _, contact := range s.contacts {
		if err := refreshHistory(ctx, tx, contact); err != nil {
			return err
		}
	}
	after, err := readersOf(ctx, tx, s.convs)
	if err != nil {
		return err
	}
	ch, err := readerChange(ctx, tx, s.before, after)
	if err != nil || ch.Empty() {
		return err
	}
	return tx.AppendEvent(ctx, backend.EventAccessChanged, "", ch)
}

func sortGrants(gs []backend.AccessGrant) {
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].UserID != gs[j].UserID {
			return gs[i].UserID < gs[j].UserID
		}
		return gs[i].ConversationID < gs[j].ConversationID
	})
}

// refreshHistory gives everyone who holds, is offered or is assigned one of
// a customer's conversations read access to the customer's other
// conversations that nobody holds.
func refreshHistory(ctx context.Context, tx *Tx, contactID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM conversation_access WHERE level = 'contact'
		AND conversation_id IN (SELECT id FROM conversations WHERE contact_id = ?)`, contactID); err != nil {
		return fmt.Errorf("clear history access: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO conversation_access (conversation_id, user_id, level)
		SELECT c.id, h.user_id, 'contact' FROM conversations c
		JOIN (SELECT DISTINCT a.user_id FROM conversation_access a JOIN conversations c2 ON c2.id = a.conversation_id
			WHERE c2.contact_id = ?1 AND a.level IN `+holderLevels+`) h
		WHERE c.contact_id = ?1 AND NOT EXISTS (SELECT 1 FROM conversation_access x
			WHERE x.conversation_id = c.id AND x.level IN `+holderLevels+`)`, contactID)
	if err != nil {
		return fmt.Errorf("grant history access: %w", err)
	}
	return nil
}

// withContactAccess runs fn, which changes which conversations belong to
// the contacts, and keeps their history access in step.
func withContactAccess(ctx context.Context, tx *Tx, contacts []string, fn func() error) error {
	s, err := beginContactAccess(ctx, tx, contacts, nil)
	if err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	cl, _ := json.Marshal(contacts)
	now, err := stringList(ctx, tx, `SELECT id FROM conversations WHERE contact_id IN (SELECT value FROM json_each(?))`, string(cl))
	if err != nil {
		return err
	}
	s.convs = append(s.convs, now...) // a new conversation joins the scope
	return s.finish(ctx, tx)
}

func stringList(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
