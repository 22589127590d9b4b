package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// The queue groups (storetx/access_group.go): access_groups holds each
// group's members once, conversation_access_groups the group each waiting
// conversation names (migration 0760).

// GroupMembers implements storetx.AccessTx.
func (s steps) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	users, err := stringList(ctx, s.Tx, `SELECT user_id FROM access_groups WHERE group_id = ?`, groupID)
	if err != nil {
		return nil, fmt.Errorf("read access group: %w", err)
	}
	return users, nil
}

// InGroup implements storetx.AccessTx.
func (s steps) InGroup(ctx context.Context, groupID, user string) (bool, error) {
	return exists(ctx, s.Tx, "access group member", `SELECT 1 FROM access_groups WHERE group_id = ? AND user_id = ?`, groupID, user)
}

// ConversationGroup implements storetx.AccessTx.
func (s steps) ConversationGroup(ctx context.Context, conversationID string) (string, error) {
	var id string
	err := s.QueryRowContext(ctx, `SELECT group_id FROM conversation_access_groups WHERE conversation_id = ?`, conversationID).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read access group: %w", err)
	}
	return id, nil
}

// StoreGroup implements storetx.AccessTx.
func (s steps) StoreGroup(ctx context.Context, groupID string, members []string) error {
	if ok, err := exists(ctx, s.Tx, "access group", `SELECT 1 FROM access_groups WHERE group_id = ?`, groupID); err != nil || ok {
		return err
	}
	list, _ := json.Marshal(members)
	if _, err := s.ExecContext(ctx, `INSERT INTO access_groups (group_id, user_id) SELECT ?, value FROM json_each(?)`, groupID, string(list)); err != nil {
		return fmt.Errorf("store access group: %w", err)
	}
	return nil
}

// SetConversationGroup implements storetx.AccessTx.
func (s steps) SetConversationGroup(ctx context.Context, conversationID, groupID string) error {
	var err error
	if groupID == "" {
		_, err = s.ExecContext(ctx, `DELETE FROM conversation_access_groups WHERE conversation_id = ?`, conversationID)
	} else {
		_, err = s.ExecContext(ctx, `INSERT INTO conversation_access_groups (conversation_id, group_id) VALUES (?, ?)
			ON CONFLICT (conversation_id) DO UPDATE SET group_id = excluded.group_id`, conversationID, groupID)
	}
	if err != nil {
		return fmt.Errorf("set access group: %w", err)
	}
	return nil
}

// DropGroup implements storetx.AccessTx.
func (s steps) DropGroup(ctx context.Context, groupID string) error {
	if _, err := s.ExecContext(ctx, `DELETE FROM access_groups WHERE group_id = ?1
		AND NOT EXISTS (SELECT 1 FROM conversation_access_groups WHERE group_id = ?1)`, groupID); err != nil {
		return fmt.Errorf("drop access group: %w", err)
	}
	return nil
}
