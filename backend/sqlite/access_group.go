package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"switchboard/backend"
)

// Queue access is kept by group: a conversation waiting in a queue names
// the group of users who serve it (conversation_access_groups), and a
// group's members (access_groups) are stored once for every conversation
// that waits for the same people. A routing decision of a waiting
// conversation then writes at most one row, however many agents serve its
// queue. A group is named by a hash of its members, so the same people
// give the same group; one that no conversation names any more is dropped.

// queueGroup returns the group of users holding the queue level in users,
// with its sorted members ("" and none when nobody does).
func queueGroup(users map[string]string) (string, []string) {
	var members []string
	for user, level := range users {
		if level == backend.AccessQueue {
			members = append(members, user)
		}
	}
	if len(members) == 0 {
		return "", nil
	}
	sort.Strings(members)
	h := sha256.New()
	for _, m := range members {
		h.Write([]byte(m))
		h.Write([]byte{0})
	}
	return "q:" + hex.EncodeToString(h.Sum(nil)[:16]), members
}

// setGroup makes the conversation name the group of its queue readers in
// users, storing the group when it is new, and returns the group it named
// before when that changed ("" otherwise).
func setGroup(ctx context.Context, tx *Tx, conversationID string, users map[string]string) (string, error) {
	id, members := queueGroup(users)
	var old string
	err := tx.QueryRowContext(ctx, `SELECT group_id FROM conversation_access_groups WHERE conversation_id = ?`, conversationID).Scan(&old)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read access group: %w", err)
	}
	if old == id {
		return "", nil
	}
	if id == "" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM conversation_access_groups WHERE conversation_id = ?`, conversationID); err != nil {
			return "", fmt.Errorf("clear access group: %w", err)
		}
		return old, nil
	}
	if err := storeGroup(ctx, tx, id, members); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO conversation_access_groups (conversation_id, group_id) VALUES (?, ?)
		ON CONFLICT (conversation_id) DO UPDATE SET group_id = excluded.group_id`, conversationID, id); err != nil {
		return "", fmt.Errorf("set access group: %w", err)
	}
	return old, nil
}

// storeGroup stores a group's members unless it is stored already.
func storeGroup(ctx context.Context, tx *Tx, id string, members []string) error {
	if ok, err := exists(ctx, tx, "access group", `SELECT 1 FROM access_groups WHERE group_id = ?`, id); err != nil || ok {
		return err
	}
	list, _ := json.Marshal(members)
	if _, err := tx.ExecContext(ctx, `INSERT INTO access_groups (group_id, user_id) SELECT ?, value FROM json_each(?)`, id, string(list)); err != nil {
		return fmt.Errorf("store access group: %w", err)
	}
	return nil
}

// dropGroups deletes those of the groups that no conversation names.
func dropGroups(ctx context.Context, tx *Tx, ids []string) error {
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_groups WHERE group_id = ?1
			AND NOT EXISTS (SELECT 1 FROM conversation_access_groups WHERE group_id = ?1)`, id); err != nil {
			return fmt.Errorf("drop access group: %w", err)
		}
	}
	return nil
}

// readerState is who may read a scope's conversations at one moment: the
// users with an access row and each conversation's group.
type readerState struct {
	direct map[backend.AccessGrant]bool
	group  map[string]string
}

// readersOf reads the reader state of conversations.
func readersOf(ctx context.Context, tx *Tx, conversationIDs []string) (*readerState, error) {
	list, _ := json.Marshal(conversationIDs)
	st := &readerState{direct: map[backend.AccessGrant]bool{}, group: map[string]string{}}
	err := scanPairs(ctx, tx, `SELECT DISTINCT conversation_id, user_id FROM conversation_access
		WHERE conversation_id IN (SELECT value FROM json_each(?))`, string(list), func(conv, user string) {
		st.direct[backend.AccessGrant{UserID: user, ConversationID: conv}] = true
	})
	if err != nil {
		return nil, fmt.Errorf("read access: %w", err)
	}
	err = scanPairs(ctx, tx, `SELECT conversation_id, group_id FROM conversation_access_groups
		WHERE conversation_id IN (SELECT value FROM json_each(?))`, string(list), func(conv, group string) {
		st.group[conv] = group
	})
	if err != nil {
		return nil, fmt.Errorf("read access groups: %w", err)
	}
	return st, nil
}

// scanPairs calls fn with each row of a query of two text columns.
func scanPairs(ctx context.Context, tx *Tx, query string, arg any, fn func(a, b string)) error {
	rows, err := tx.QueryContext(ctx, query, arg)
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

// groupMembers reads groups' members within one transaction, each whole
// group at most once.
type groupMembers struct {
	ctx    context.Context
	tx     *Tx
	loaded map[string]map[string]bool
}

// all returns the members of a group ("" has none).
func (g *groupMembers) all(id string) (map[string]bool, error) {
	if id == "" {
		return nil, nil
	}
	if m, ok := g.loaded[id]; ok {
		return m, nil
	}
	users, err := stringList(g.ctx, g.tx, `SELECT user_id FROM access_groups WHERE group_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("read access group: %w", err)
	}
	m := make(map[string]bool, len(users))
	for _, u := range users {
		m[u] = true
	}
	g.loaded[id] = m
	return m, nil
}

// has reports whether user is a member of a group, without reading the
// whole group when it was not read already.
func (g *groupMembers) has(id, user string) (bool, error) {
	if id == "" {
		return false, nil
	}
	if m, ok := g.loaded[id]; ok {
		return m[user], nil
	}
	return exists(g.ctx, g.tx, "access group member", `SELECT 1 FROM access_groups WHERE group_id = ? AND user_id = ?`, id, user)
}

// readerChange tells who gained and who lost a conversation between two
// reader states. A group's members are read only where a conversation's
// group changed; elsewhere only the users whose rows changed are looked up.
func readerChange(ctx context.Context, tx *Tx, before, after *readerState) (*backend.AccessChange, error) {
	gm := &groupMembers{ctx: ctx, tx: tx, loaded: map[string]map[string]bool{}}
	candidates := map[backend.AccessGrant]bool{}
	for g := range before.direct {
		candidates[g] = !after.direct[g]
	}
	for g := range after.direct {
		candidates[g] = !before.direct[g]
	}
	for _, st := range []*readerState{before, after} {
		for conv := range st.group {
			if before.group[conv] == after.group[conv] {
				continue
			}
			members, err := gm.all(st.group[conv])
			if err != nil {
				return nil, err
			}
			for user := range members {
				candidates[backend.AccessGrant{UserID: user, ConversationID: conv}] = true
			}
		}
	}
	reads := func(st *readerState, g backend.AccessGrant) (bool, error) {
		if st.direct[g] {
			return true, nil
		}
		return gm.has(st.group[g.ConversationID], g.UserID)
	}
	ch := &backend.AccessChange{}
	for g, maybe := range candidates {
		if !maybe {
			continue
		}
		was, err := reads(before, g)
		if err != nil {
			return nil, err
		}
		is, err := reads(after, g)
		if err != nil {
			return nil, err
		}
		if !was && is {
			ch.Granted = append(ch.Granted, g)
		} else if was && !is {
			ch.Revoked = append(ch.Revoked, g)
		}
	}
	sortGrants(ch.Granted)
	sortGrants(ch.Revoked)
	return ch, nil
}
