package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// The conversation_access table works as in the SQLite store (see
// storekit). Changes to one customer's access take an advisory lock on the
// customer, so a routing decision on the leader and a new conversation
// opened by a webhook on another node compute the customer's history one
// after the other.

// ConversationAccess implements backend.AccessService.
func (db *DB) ConversationAccess(ctx context.Context, userID, conversationID string) ([]string, error) {
	levels, err := stringList(ctx, db.pool, `SELECT level FROM conversation_access WHERE conversation_id = $1 AND user_id = $2 ORDER BY level`,
		conversationID, userID)
	if err != nil {
		return nil, fmt.Errorf("conversation access: %w", err)
	}
	return levels, nil
}

// HoldsCustomer implements backend.AccessService.
func (db *DB) HoldsCustomer(ctx context.Context, userID, conversationID string) (bool, error) {
	ok, err := exists(ctx, db.pool, `SELECT 1 FROM conversation_access a JOIN conversations c ON c.id = a.conversation_id
		WHERE a.user_id = $1 AND a.level IN ('owner', 'assigned') AND a.conversation_id <> $2
			AND c.contact_id = (SELECT contact_id FROM conversations WHERE id = $2)`, userID, conversationID)
	if err != nil {
		return false, fmt.Errorf("customer access: %w", err)
	}
	return ok, nil
}

// ContactReadable implements backend.AccessService.
func (db *DB) ContactReadable(ctx context.Context, userID, contactID string) (bool, error) {
	ok, err := exists(ctx, db.pool, `SELECT 1 FROM conversation_access a JOIN conversations c ON c.id = a.conversation_id
		WHERE a.user_id = $1 AND c.contact_id = $2`, userID, contactID)
	if err != nil {
		return false, fmt.Errorf("contact access: %w", err)
	}
	return ok, nil
}

// ReadableConversations implements backend.AccessService.
func (db *DB) ReadableConversations(ctx context.Context, userID string) (map[string]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT a.conversation_id, COALESCE(c.contact_id, '')
		FROM conversation_access a LEFT JOIN conversations c ON c.id = a.conversation_id WHERE a.user_id = $1`, userID)
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

// ConversationSnapshot implements backend.AccessService. It reads in one
// repeatable-read transaction, so the pieces agree.
func (db *DB) ConversationSnapshot(ctx context.Context, conversationID string) ([]backend.Event, error) {
	tx, err := db.pool.BeginTx(ctx, pgxReadOnly)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
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
	tasks, err := findTasks(ctx, tx, `conversation_id = $1 AND state NOT IN ('completed', 'canceled')`, conversationID)
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
	var stale []string
	if complete {
		var err error
		if stale, err = stringList(ctx, tx, `SELECT DISTINCT conversation_id FROM conversation_access WHERE level = ANY ($1)`, storekit.RoutedLevels); err != nil {
			return err
		}
	}
	plan := storekit.PlanAccess(list, complete, stale)
	ids := plan.Conversations()
	scope, err := beginAccess(ctx, tx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := setDirectAccess(ctx, tx, id, plan.Users[id], plan.Finished[id]); err != nil {
			return err
		}
	}
	if err := scope.finish(ctx, tx); err != nil {
		return err
	}
	for _, id := range ids {
		assignee := storekit.Owner(plan.Users[id])
		if assignee == "" {
			if assigned, err := stringList(ctx, tx, `SELECT user_id FROM conversation_access WHERE conversation_id = $1 AND level = 'assigned'
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

// setDirectAccess replaces the routing levels of one conversation. Who
// finished it stays assigned; a new holder ends everyone else's
// assignment.
func setDirectAccess(ctx context.Context, tx *Tx, conversationID string, users map[string]string, finished string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM conversation_access WHERE conversation_id = $1 AND level = ANY ($2)`,
		conversationID, storekit.RoutedLevels); err != nil {
		return fmt.Errorf("clear access: %w", err)
	}
	var userIDs, levels []string
	for user, level := range users {
		userIDs, levels = append(userIDs, user), append(levels, level)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO conversation_access (conversation_id, user_id, level)
		SELECT $1, u, l FROM unnest($2::text[], $3::text[]) AS x (u, l)`, conversationID, userIDs, levels); err != nil {
		return fmt.Errorf("grant access: %w", err)
	}
	if holder := storekit.Owner(users); holder != "" {
		if _, err := tx.Exec(ctx, `DELETE FROM conversation_access WHERE conversation_id = $1 AND level = 'assigned' AND user_id <> $2`,
			conversationID, holder); err != nil {
			return fmt.Errorf("end assignment: %w", err)
		}
	}
	if finished != "" {
		if _, err := tx.Exec(ctx, `INSERT INTO conversation_access (conversation_id, user_id, level) VALUES ($1, $2, 'assigned')
			ON CONFLICT DO NOTHING`, conversationID, finished); err != nil {
			return fmt.Errorf("keep assignment: %w", err)
		}
	}
	return nil
}

// setAssignee records who holds a conversation and tells the feed.
func setAssignee(ctx context.Context, tx *Tx, conversationID, userID string) error {
	convs, err := collect(ctx, tx, scanConversation, `UPDATE conversations SET assignee_id = $1, updated_at = $2
		WHERE id = $3 AND assignee_id <> $1 RETURNING `+conversationColumns, userID, tx.Now(), conversationID)
	if err != nil {
		return fmt.Errorf("set assignee: %w", err)
	}
	for _, c := range convs {
		if err := tx.AppendEvent(ctx, backend.EventConversationUpserted, c.ID, c); err != nil {
			return err
		}
	}
	return nil
}

// accessScope remembers who could read a set of conversations before a
// change, so finish can tell the feed who gained and who lost them.
type accessScope struct {
	convs    []string
	contacts []string
	before   map[backend.AccessGrant]bool
}

// beginAccess opens a scope over conversations and every other
// conversation of their customers.
func beginAccess(ctx context.Context, tx *Tx, conversationIDs []string) (*accessScope, error) {
	contacts, err := stringList(ctx, tx, `SELECT DISTINCT contact_id FROM conversations WHERE id = ANY ($1) ORDER BY contact_id`, conversationIDs)
	if err != nil {
		return nil, err
	}
	return beginContactAccess(ctx, tx, contacts, conversationIDs)
}

// beginContactAccess locks the contacts and opens a scope over their
// conversations and the extra ones.
func beginContactAccess(ctx context.Context, tx *Tx, contacts, extra []string) (*accessScope, error) {
	names := make([]string, len(contacts))
	for i, c := range contacts {
		names[i] = "contact:" + c
	}
	if err := lock(ctx, tx, names...); err != nil {
		return nil, err
	}
	s := &accessScope{contacts: contacts}
	convs, err := stringList(ctx, tx, `SELECT id FROM conversations WHERE contact_id = ANY ($1)`, contacts)
	if err != nil {
		return nil, err
	}
	s.convs = append(convs, extra...)
	s.before, err = s.readers(ctx, tx)
	return s, err
}

// readers returns who may read the scope's conversations now.
func (s *accessScope) readers(ctx context.Context, tx *Tx) (map[backend.AccessGrant]bool, error) {
	grants, err := collect(ctx, tx, func(r scanner) (backend.AccessGrant, error) {
		var g backend.AccessGrant
		return g, r.Scan(&g.ConversationID, &g.UserID)
	}, `SELECT DISTINCT conversation_id, user_id FROM conversation_access WHERE conversation_id = ANY ($1)`, s.convs)
	if err != nil {
		return nil, fmt.Errorf("read access: %w", err)
	}
	out := map[backend.AccessGrant]bool{}
	for _, g := range grants {
		out[g] = true
	}
	return out, nil
}

// finish recomputes the customers' history access and appends an
// access.changed event when anyone gained or lost a conversation.
func (s *accessScope) finish(ctx context.Context, tx *Tx) error {
	for _, contact := range s.contacts {
		if err := refreshHistory(ctx, tx, contact); err != nil {
			return err
		}
	}
	after, err := s.readers(ctx, tx)
	if err != nil {
		return err
	}
	if ch := storekit.AccessDiff(s.before, after); ch != nil {
		return tx.AppendEvent(ctx, backend.EventAccessChanged, "", ch)
	}
	return nil
}

// refreshHistory gives everyone who holds, is offered or is assigned one of
// a customer's conversations read access to the customer's other
// conversations that nobody holds.
func refreshHistory(ctx context.Context, tx *Tx, contactID string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM conversation_access WHERE level = 'contact'
		AND conversation_id IN (SELECT id FROM conversations WHERE contact_id = $1)`, contactID); err != nil {
		return fmt.Errorf("clear history access: %w", err)
	}
	_, err := tx.Exec(ctx, `INSERT INTO conversation_access (conversation_id, user_id, level)
		SELECT c.id, h.user_id, 'contact' FROM conversations c
		JOIN (SELECT DISTINCT a.user_id FROM conversation_access a JOIN conversations c2 ON c2.id = a.conversation_id
			WHERE c2.contact_id = $1 AND a.level = ANY ($2)) h ON true
		WHERE c.contact_id = $1 AND NOT EXISTS (SELECT 1 FROM conversation_access x
			WHERE x.conversation_id = c.id AND x.level = ANY ($2))
		ON CONFLICT DO NOTHING`, contactID, storekit.HolderLevels)
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
	now, err := stringList(ctx, tx, `SELECT id FROM conversations WHERE contact_id = ANY ($1)`, contacts)
	if err != nil {
		return err
	}
	s.convs = append(s.convs, now...) // a new conversation joins the scope
	return s.finish(ctx, tx)
}
