package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard/backend"
	"switchboard/backend/internal/storetx"
)

// The conversation_readers view holds who, besides supervisors and admins,
// may read each conversation: the levels routing hands out (owner and
// offered in conversation_access, queue through the conversation's queue
// group, storetx/access_group.go), who completed it (assigned) and the
// customer's history (contact). Every change to them happens in the
// transaction that caused it and appends one access.changed event, so the
// change feed knows who gained and who lost a conversation at that point of
// the log.

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
	return readableConversations(ctx, db.r, userID)
}

func readableConversations(ctx context.Context, q queryer, userID string) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT a.conversation_id, COALESCE(c.contact_id, '')
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
	return storetx.ConversationSnapshot(ctx, snapshot{tx}, conversationID)
}

// snapshot reads a conversation's snapshot through one read transaction.
type snapshot struct{ q queryer }

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
	return findTasks(ctx, r.q, `conversation_id = ? AND state NOT IN ('completed', 'canceled')`, conversationID)
}

// FindFlowExecution implements storetx.SnapshotReader.
func (r snapshot) FindFlowExecution(ctx context.Context, conversationID string) (*backend.FlowExecution, error) {
	return findFlowExecution(ctx, r.q, conversationID)
}

var _ storetx.AccessTx = steps{}

// routedLevels are the levels routing hands out and replaces on each
// report; holderLevels those that make a customer's other conversations
// readable as history.
const (
	routedLevels = `('owner', 'offered', 'queue')`
	holderLevels = `('owner', 'offered', 'assigned')`
)

// RoutedConversations implements storetx.AccessTx.
func (s steps) RoutedConversations(ctx context.Context) ([]string, error) {
	return stringList(ctx, s.Tx, `SELECT conversation_id FROM conversation_access WHERE level IN `+routedLevels+`
		UNION SELECT conversation_id FROM conversation_access_groups`)
}

// ContactsOf implements storetx.AccessTx.
func (s steps) ContactsOf(ctx context.Context, conversationIDs []string) ([]string, error) {
	list, _ := json.Marshal(conversationIDs)
	return stringList(ctx, s.Tx, `SELECT DISTINCT contact_id FROM conversations WHERE id IN (SELECT value FROM json_each(?)) ORDER BY contact_id`, string(list))
}

// ConversationsOf implements storetx.AccessTx.
func (s steps) ConversationsOf(ctx context.Context, contacts []string) ([]string, error) {
	cl, _ := json.Marshal(contacts)
	return stringList(ctx, s.Tx, `SELECT id FROM conversations WHERE contact_id IN (SELECT value FROM json_each(?))`, string(cl))
}

// Readers implements storetx.AccessTx.
func (s steps) Readers(ctx context.Context, conversationIDs []string) (*storetx.Readers, error) {
	list, _ := json.Marshal(conversationIDs)
	st := &storetx.Readers{Direct: map[backend.AccessGrant]bool{}, Group: map[string]string{}}
	err := scanPairs(ctx, s.Tx, `SELECT DISTINCT conversation_id, user_id FROM conversation_access
		WHERE conversation_id IN (SELECT value FROM json_each(?))`, func(conv, user string) {
		st.Direct[backend.AccessGrant{UserID: user, ConversationID: conv}] = true
	}, string(list))
	if err != nil {
		return nil, fmt.Errorf("read access: %w", err)
	}
	err = scanPairs(ctx, s.Tx, `SELECT conversation_id, group_id FROM conversation_access_groups
		WHERE conversation_id IN (SELECT value FROM json_each(?))`, func(conv, group string) {
		st.Group[conv] = group
	}, string(list))
	if err != nil {
		return nil, fmt.Errorf("read access groups: %w", err)
	}
	return st, nil
}

// RoutedAccess implements storetx.AccessTx.
func (s steps) RoutedAccess(ctx context.Context, conversationID string) (map[string]string, int, error) {
	have, n := map[string]string{}, 0
	err := scanPairs(ctx, s.Tx, `SELECT user_id, level FROM conversation_access WHERE conversation_id = ? AND level IN `+routedLevels,
		func(user, level string) { have[user], n = level, n+1 }, conversationID)
	if err != nil {
		return nil, 0, fmt.Errorf("read access: %w", err)
	}
	return have, n, nil
}

// RefreshHistory implements storetx.AccessTx.
func (s steps) RefreshHistory(ctx context.Context, contactID string) error {
	if _, err := s.ExecContext(ctx, `DELETE FROM conversation_access WHERE level = 'contact'
		AND conversation_id IN (SELECT id FROM conversations WHERE contact_id = ?)`, contactID); err != nil {
		return fmt.Errorf("clear history access: %w", err)
	}
	_, err := s.ExecContext(ctx, `INSERT OR IGNORE INTO conversation_access (conversation_id, user_id, level)
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

// ClearRoutedAccess implements storetx.AccessTx.
func (s steps) ClearRoutedAccess(ctx context.Context, conversationID string) error {
	if _, err := s.ExecContext(ctx, `DELETE FROM conversation_access WHERE conversation_id = ? AND level IN `+routedLevels, conversationID); err != nil {
		return fmt.Errorf("clear access: %w", err)
	}
	return nil
}

// GrantAccess implements storetx.AccessTx.
func (s steps) GrantAccess(ctx context.Context, conversationID string, users map[string]string) error {
	for user, level := range users {
		if _, err := s.ExecContext(ctx, `INSERT INTO conversation_access (conversation_id, user_id, level) VALUES (?, ?, ?)`,
			conversationID, user, level); err != nil {
			return fmt.Errorf("grant access: %w", err)
		}
	}
	return nil
}

// EndAssignments implements storetx.AccessTx.
func (s steps) EndAssignments(ctx context.Context, conversationID, holder string) error {
	if _, err := s.ExecContext(ctx, `DELETE FROM conversation_access WHERE conversation_id = ? AND level = 'assigned' AND user_id <> ?`,
		conversationID, holder); err != nil {
		return fmt.Errorf("end assignment: %w", err)
	}
	return nil
}

// KeepAssignment implements storetx.AccessTx.
func (s steps) KeepAssignment(ctx context.Context, conversationID, user string) error {
	if _, err := s.ExecContext(ctx, `INSERT OR IGNORE INTO conversation_access (conversation_id, user_id, level) VALUES (?, ?, 'assigned')`,
		conversationID, user); err != nil {
		return fmt.Errorf("keep assignment: %w", err)
	}
	return nil
}

// FirstAssigned implements storetx.AccessTx.
func (s steps) FirstAssigned(ctx context.Context, conversationID string) (string, error) {
	assigned, err := stringList(ctx, s.Tx, `SELECT user_id FROM conversation_access WHERE conversation_id = ? AND level = 'assigned'
		ORDER BY user_id LIMIT 1`, conversationID)
	if err != nil || len(assigned) == 0 {
		return "", err
	}
	return assigned[0], nil
}

// SetAssignee implements storetx.AccessTx.
func (s steps) SetAssignee(ctx context.Context, conversationID, userID string) (*backend.Conversation, error) {
	res, err := s.ExecContext(ctx, `UPDATE conversations SET assignee_id = ?, updated_at = ? WHERE id = ? AND assignee_id <> ?`,
		userID, formatTime(s.Now()), conversationID, userID)
	if err != nil {
		return nil, fmt.Errorf("set assignee: %w", err)
	} else if n, _ := res.RowsAffected(); n == 0 {
		return nil, nil
	}
	return findConversation(ctx, s.Tx, conversationID)
}

// scanPairs calls fn with each row of a query of two text columns.
func scanPairs(ctx context.Context, q queryer, query string, fn func(a, b string), args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			return err
		}
		fn(a, b)
	}
	return rows.Err()
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
