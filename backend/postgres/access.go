package postgres

import (
	"context"
	"fmt"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
)

// The conversation_access table and the queue groups work as in the SQLite
// store (see storekit and storetx/access_group.go); the policy reads both
// through the conversation_readers view. Changes to one customer's access take an advisory lock on the
// customer, so a routing decision on the leader and a new conversation
// opened by a webhook on another node compute the customer's history one
// after the other.

// ConversationAccess implements backend.AccessService.
func (db *DB) ConversationAccess(ctx context.Context, userID, conversationID string) ([]string, error) {
	levels, err := stringList(ctx, db.pool, `SELECT level FROM conversation_readers WHERE conversation_id = $1 AND user_id = $2 ORDER BY level`,
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
	ok, err := exists(ctx, db.pool, `SELECT 1 FROM conversation_readers a JOIN conversations c ON c.id = a.conversation_id
		WHERE a.user_id = $1 AND c.contact_id = $2`, userID, contactID)
	if err != nil {
		return false, fmt.Errorf("contact access: %w", err)
	}
	return ok, nil
}

// ReadableConversations implements backend.AccessService.
func (db *DB) ReadableConversations(ctx context.Context, userID string) (map[string]string, error) {
	return readableConversations(ctx, db.pool, userID)
}

func readableConversations(ctx context.Context, q querier, userID string) (map[string]string, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT a.conversation_id, COALESCE(c.contact_id, '')
		FROM conversation_readers a LEFT JOIN conversations c ON c.id = a.conversation_id WHERE a.user_id = $1`, userID)
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
	return storetx.ConversationSnapshot(ctx, snapshot{tx}, conversationID)
}

// snapshot reads a conversation's snapshot through one read transaction.
type snapshot struct{ q querier }

var _ storetx.SnapshotReader = snapshot{}

// FindConversation implements storetx.SnapshotReader.
func (r snapshot) FindConversation(ctx context.Context, id string) (*backend.Conversation, error) {
	return findConversation(ctx, r.q, id)
}

// FindContact implements storetx.SnapshotReader.
func (r snapshot) FindContact(ctx context.Context, id string) (*backend.Contact, error) {
	return findContact(ctx, r.q, id)
}

// FindMessages implements storetx.SnapshotReader.
func (r snapshot) FindMessages(ctx context.Context, conversationID string) ([]*backend.Message, error) {
	return findMessages(ctx, r.q, conversationID)
}

// FindOpenTasks implements storetx.SnapshotReader.
func (r snapshot) FindOpenTasks(ctx context.Context, conversationID string) ([]*backend.Task, error) {
	return findTasks(ctx, r.q, `conversation_id = $1 AND state NOT IN ('completed', 'canceled')`, conversationID)
}

// FindFlowExecution implements storetx.SnapshotReader.
func (r snapshot) FindFlowExecution(ctx context.Context, conversationID string) (*backend.FlowExecution, error) {
	return findFlowExecution(ctx, r.q, conversationID)
}

var _ storetx.AccessTx = steps{}

// RoutedConversations implements storetx.AccessTx.
func (s steps) RoutedConversations(ctx context.Context) ([]string, error) {
	return stringList(ctx, s.Tx, `SELECT conversation_id FROM conversation_access WHERE level = ANY ($1)
		UNION SELECT conversation_id FROM conversation_access_groups`, storekit.RoutedLevels)
}

// ContactsOf implements storetx.AccessTx.
func (s steps) ContactsOf(ctx context.Context, conversationIDs []string) ([]string, error) {
	return stringList(ctx, s.Tx, `SELECT DISTINCT contact_id FROM conversations WHERE id = ANY ($1) ORDER BY contact_id`, conversationIDs)
}

// ConversationsOf implements storetx.AccessTx.
func (s steps) ConversationsOf(ctx context.Context, contacts []string) ([]string, error) {
	return stringList(ctx, s.Tx, `SELECT id FROM conversations WHERE contact_id = ANY ($1)`, contacts)
}

// Readers implements storetx.AccessTx.
func (s steps) Readers(ctx context.Context, conversationIDs []string) (*storetx.Readers, error) {
	st := &storetx.Readers{Direct: map[backend.AccessGrant]bool{}, Group: map[string]string{}}
	err := scanPairs(ctx, s.Tx, `SELECT DISTINCT conversation_id, user_id FROM conversation_access WHERE conversation_id = ANY ($1)`,
		func(conv, user string) { st.Direct[backend.AccessGrant{UserID: user, ConversationID: conv}] = true }, conversationIDs)
	if err != nil {
		return nil, fmt.Errorf("read access: %w", err)
	}
	err = scanPairs(ctx, s.Tx, `SELECT conversation_id, group_id FROM conversation_access_groups WHERE conversation_id = ANY ($1)`,
		func(conv, group string) { st.Group[conv] = group }, conversationIDs)
	if err != nil {
		return nil, fmt.Errorf("read access groups: %w", err)
	}
	return st, nil
}

// RoutedAccess implements storetx.AccessTx.
func (s steps) RoutedAccess(ctx context.Context, conversationID string) (map[string]string, int, error) {
	have, n := map[string]string{}, 0
	err := scanPairs(ctx, s.Tx, `SELECT user_id, level FROM conversation_access WHERE conversation_id = $1 AND level = ANY ($2)`,
		func(user, level string) { have[user], n = level, n+1 }, conversationID, storekit.RoutedLevels)
	if err != nil {
		return nil, 0, fmt.Errorf("read access: %w", err)
	}
	return have, n, nil
}

// scanPairs calls fn with each row of a query of two text columns.
func scanPairs(ctx context.Context, q querier, sql string, fn func(a, b string), args ...any) error {
	pairs, err := collect(ctx, q, func(r scanner) ([2]string, error) {
		var p [2]string
		return p, r.Scan(&p[0], &p[1])
	}, sql, args...)
	for _, p := range pairs {
		fn(p[0], p[1])
	}
	return err
}

// RefreshHistory implements storetx.AccessTx.
func (s steps) RefreshHistory(ctx context.Context, contactID string) error {
	if _, err := s.Exec(ctx, `DELETE FROM conversation_access WHERE level = 'contact'
		AND conversation_id IN (SELECT id FROM conversations WHERE contact_id = $1)`, contactID); err != nil {
		return fmt.Errorf("clear history access: %w", err)
	}
	_, err := s.Exec(ctx, `INSERT INTO conversation_access (conversation_id, user_id, level)
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

// ClearRoutedAccess implements storetx.AccessTx.
func (s steps) ClearRoutedAccess(ctx context.Context, conversationID string) error {
	if _, err := s.Exec(ctx, `DELETE FROM conversation_access WHERE conversation_id = $1 AND level = ANY ($2)`,
		conversationID, storekit.RoutedLevels); err != nil {
		return fmt.Errorf("clear access: %w", err)
	}
	return nil
}

// GrantAccess implements storetx.AccessTx, in one statement.
func (s steps) GrantAccess(ctx context.Context, conversationID string, users map[string]string) error {
	var userIDs, levels []string
	for user, level := range users {
		userIDs, levels = append(userIDs, user), append(levels, level)
	}
	if _, err := s.Exec(ctx, `INSERT INTO conversation_access (conversation_id, user_id, level)
		SELECT $1, u, l FROM unnest($2::text[], $3::text[]) AS x (u, l)`, conversationID, userIDs, levels); err != nil {
		return fmt.Errorf("grant access: %w", err)
	}
	return nil
}

// EndAssignments implements storetx.AccessTx.
func (s steps) EndAssignments(ctx context.Context, conversationID, holder string) error {
	if _, err := s.Exec(ctx, `DELETE FROM conversation_access WHERE conversation_id = $1 AND level = 'assigned' AND user_id <> $2`,
		conversationID, holder); err != nil {
		return fmt.Errorf("end assignment: %w", err)
	}
	return nil
}

// KeepAssignment implements storetx.AccessTx.
func (s steps) KeepAssignment(ctx context.Context, conversationID, user string) error {
	if _, err := s.Exec(ctx, `INSERT INTO conversation_access (conversation_id, user_id, level) VALUES ($1, $2, 'assigned')
		ON CONFLICT DO NOTHING`, conversationID, user); err != nil {
		return fmt.Errorf("keep assignment: %w", err)
	}
	return nil
}

// FirstAssigned implements storetx.AccessTx.
func (s steps) FirstAssigned(ctx context.Context, conversationID string) (string, error) {
	assigned, err := stringList(ctx, s.Tx, `SELECT user_id FROM conversation_access WHERE conversation_id = $1 AND level = 'assigned'
		ORDER BY user_id LIMIT 1`, conversationID)
	if err != nil || len(assigned) == 0 {
		return "", err
	}
	return assigned[0], nil
}

// SetAssignee implements storetx.AccessTx.
func (s steps) SetAssignee(ctx context.Context, conversationID, userID string) (*backend.Conversation, error) {
	convs, err := collect(ctx, s.Tx, scanConversation, `UPDATE conversations SET assignee_id = $1, updated_at = $2
		WHERE id = $3 AND assignee_id <> $1 RETURNING `+conversationColumns, userID, s.Now(), conversationID)
	if err != nil {
		return nil, fmt.Errorf("set assignee: %w", err)
	} else if len(convs) == 0 {
		return nil, nil
	}
	return convs[0], nil
}
