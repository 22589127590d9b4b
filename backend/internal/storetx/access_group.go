package storetx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sort"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// Queue access is kept by group: a conversation waiting in a queue names
// the group of users who serve it, and a group's members are stored once
// for every conversation that waits for the same people. A routing
// decision of a waiting conversation then writes at most one row, however
// many agents serve its queue. A group is named by a hash of its members,
// so the same people give the same group; one that no conversation names
// any more is dropped.

// Readers is who may read a set of conversations at one moment: the users
// with an access row, and the queue group each conversation names.
type Readers struct {
	// Direct holds the users with an access row on a conversation.
	Direct map[backend.AccessGrant]bool
	// Group maps a conversation to the queue group it names.
	Group map[string]string
}

// QueueGroup returns the group of users holding the queue level in users,
// with its sorted members ("" and none when nobody does).
func QueueGroup(users map[string]string) (string, []string) {
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

// groupLock names a group for Tx.Lock, so a group being dropped and one
// being named by another transaction's conversation never cross.
func groupLock(id string) string { return "access-group:" + id }

// setGroup makes the conversation name the group of its queue readers in
// users, storing the group when it is new, and returns the group it named
// before when that changed ("" otherwise).
func setGroup(ctx context.Context, tx AccessTx, conversationID string, users map[string]string) (string, error) {
	id, members := QueueGroup(users)
	old, err := tx.ConversationGroup(ctx, conversationID)
	if err != nil || old == id {
		return "", err
	}
	if id != "" {
		if _, err := tx.Lock(ctx, groupLock(id)); err != nil {
			return "", err
		}
		if err := tx.StoreGroup(ctx, id, members); err != nil {
			return "", err
		}
	}
	return old, tx.SetConversationGroup(ctx, conversationID, id)
}

// dropGroups deletes those of the groups that no conversation names.
func dropGroups(ctx context.Context, tx AccessTx, ids []string) error {
	for _, id := range ids {
		if _, err := tx.Lock(ctx, groupLock(id)); err != nil {
			return err
		}
		if err := tx.DropGroup(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// groupMembers reads groups' members within one transaction, each whole
// group at most once.
type groupMembers struct {
	ctx    context.Context
	tx     AccessTx
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
	users, err := g.tx.GroupMembers(g.ctx, id)
	if err != nil {
		return nil, err
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
	return g.tx.InGroup(g.ctx, id, user)
}

// readerChange tells who gained and who lost a conversation between two
// reader states (nil when nobody did). A group's members are read only
// where a conversation's group changed; elsewhere only the users whose rows
// changed are looked up.
func readerChange(ctx context.Context, tx AccessTx, before, after *Readers) (*backend.AccessChange, error) {
	gm := &groupMembers{ctx: ctx, tx: tx, loaded: map[string]map[string]bool{}}
	candidates := map[backend.AccessGrant]bool{}
	for g := range before.Direct {
		candidates[g] = !after.Direct[g]
	}
	for g := range after.Direct {
		candidates[g] = !before.Direct[g]
	}
	for _, st := range []*Readers{before, after} {
		for conv := range st.Group {
			if before.Group[conv] == after.Group[conv] {
				continue
			}
			members, err := gm.all(st.Group[conv])
			if err != nil {
				return nil, err
			}
			for user := range members {
				candidates[backend.AccessGrant{UserID: user, ConversationID: conv}] = true
			}
		}
	}
	reads := func(st *Readers, g backend.AccessGrant) (bool, error) {
		if st.Direct[g] {
			return true, nil
		}
		return gm.has(st.Group[g.ConversationID], g.UserID)
	}
	was, is := map[backend.AccessGrant]bool{}, map[backend.AccessGrant]bool{}
	for g, maybe := range candidates {
		if !maybe {
			continue
		}
		for _, side := range []struct {
			st  *Readers
			out map[backend.AccessGrant]bool
		}{{before, was}, {after, is}} {
			ok, err := reads(side.st, g)
			if err != nil {
				return nil, err
			} else if ok {
				side.out[g] = true
			}
		}
	}
	return storekit.AccessDiff(was, is), nil
}
