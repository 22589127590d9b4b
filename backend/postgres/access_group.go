package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The queue groups (storetx/access_group.go): access_groups holds each
// group's members once, conversation_access_groups the group each waiting
// conversation names (migration 0007). storetx locks a group (Tx.Lock)
// before storing or dropping it, so a group dropped by one transaction is
// never the one another names at the same time.

// GroupMembers implements storetx.AccessTx.
func (s steps) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	users, err := stringList(ctx, s.Tx, `SELECT user_id FROM access_groups WHERE group_id = $1`, groupID)
	if err != nil {
		return nil, fmt.Errorf("read access group: %w", err)
	}
	return users, nil
}

// InGroup implements storetx.AccessTx.
func (s steps) InGroup(ctx context.Context, groupID, user string) (bool, error) {
	ok, err := exists(ctx, s.Tx, `SELECT 1 FROM access_groups WHERE group_id = $1 AND user_id = $2`, groupID, user)
	if err != nil {
		return false, fmt.Errorf("access group member: %w", err)
	}
	return ok, nil
}

// ConversationGroup implements storetx.AccessTx.
func (s steps) ConversationGroup(ctx context.Context, conversationID string) (string, error) {
	var id string
	err := s.QueryRow(ctx, `SELECT group_id FROM conversation_access_groups WHERE conversation_id = $1`, conversationID).Scan(&id)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("read access group: %w", err)
	}
	return id, nil
}

// StoreGroup implements storetx.AccessTx.
func (s steps) StoreGroup(ctx context.Context, groupID string, members []string) error {
	if _, err := s.Exec(ctx, `INSERT INTO access_groups (group_id, user_id) SELECT $1, u FROM unnest($2::text[]) AS u
		ON CONFLICT DO NOTHING`, groupID, members); err != nil {
		return fmt.Errorf("store access group: %w", err)
	}
	return nil
}

// SetConversationGroup implements storetx.AccessTx.
func (s steps) SetConversationGroup(ctx context.Context, conversationID, groupID string) error {
	var err error
	if groupID == "" {
		_, err = s.Exec(ctx, `DELETE FROM conversation_access_groups WHERE conversation_id = $1`, conversationID)
	} else {
		_, err = s.Exec(ctx, `INSERT INTO conversation_access_groups (conversation_id, group_id) VALUES ($1, $2)
			ON CONFLICT (conversation_id) DO UPDATE SET group_id = excluded.group_id`, conversationID, groupID)
	}
	if err != nil {
		return fmt.Errorf("set access group: %w", err)
	}
	return nil
}

// DropGroup implements storetx.AccessTx.
func (s steps) DropGroup(ctx context.Context, groupID string) error {
	if _, err := s.Exec(ctx, `DELETE FROM access_groups WHERE group_id = $1
		AND NOT EXISTS (SELECT 1 FROM conversation_access_groups WHERE group_id = $1)`, groupID); err != nil {
		return fmt.Errorf("drop access group: %w", err)
	}
	return nil
}
