package storetest

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"switchboard/backend"
)

// accessSince returns the grants and losses of the access events after seq.
func accessSince(t *testing.T, db Store, seq int64) (granted, revoked []string) {
	t.Helper()
	events, err := db.EventsSince(context.Background(), seq, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Type != backend.EventAccessChanged {
			continue
		}
		var ch backend.AccessChange
		if err := json.Unmarshal(e.Data, &ch); err != nil {
			t.Fatal(err)
		}
		for _, g := range ch.Granted {
			granted = append(granted, g.UserID+":"+g.ConversationID)
		}
		for _, g := range ch.Revoked {
			revoked = append(revoked, g.UserID+":"+g.ConversationID)
		}
	}
	return granted, revoked
}

func testAccess(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	open := func(from, thread string) *backend.Message {
		m, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: from, ThreadKey: thread,
			ExternalID: from + thread, Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m1, m2, m3 := open("maria", "t1"), open("maria", "t2"), open("kenji", "t3")
	c1, c2, c3 := m1.ConversationID, m2.ConversationID, m3.ConversationID
	step := func(name string, c *backend.RoutingChange, wantGranted, wantRevoked []string) {
		t.Helper()
		seq, _ := db.LastSeq(ctx)
		if err := db.SaveRouting(ctx, c); err != nil {
			t.Fatal(err)
		}
		g, r := accessSince(t, db, seq)
		slices.Sort(wantGranted)
		slices.Sort(wantRevoked)
		if !reflect.DeepEqual(g, wantGranted) || !reflect.DeepEqual(r, wantRevoked) {
			t.Fatalf("%s: granted %v revoked %v, want %v and %v", name, g, r, wantGranted, wantRevoked)
		}
	}
	levels := func(user, conv string) []string {
		l, err := db.ConversationAccess(ctx, user, conv)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	access := func(conv string, users map[string]string) *backend.RoutingChange {
		return &backend.RoutingChange{Access: []*backend.ConversationAccess{{ConversationID: conv, Users: users}}}
	}

	// Offered one of Maria's conversations, ana reads it and Maria's other one.
	step("offer", access(c1, map[string]string{"ana": backend.AccessOffered}), []string{"ana:" + c1, "ana:" + c2}, nil)
	if got := levels("ana", c2); !reflect.DeepEqual(got, []string{backend.AccessContact}) {
		t.Fatalf("ana's levels on Maria's other conversation: %v", got)
	}
	if ok, _ := db.ContactReadable(ctx, "ana", m1.ContactID); !ok {
		t.Fatal("ana cannot read Maria")
	}
	if ok, _ := db.ContactReadable(ctx, "ana", m3.ContactID); ok {
		t.Fatal("ana can read Kenji")
	}
	// Accepting changes nothing she reads; it makes her the assignee.
	step("accept", access(c1, map[string]string{"ana": backend.AccessOwner}), nil, nil)
	if c, _ := db.FindConversationByID(ctx, c1); c.AssigneeID != "ana" {
		t.Fatalf("assignee = %q", c.AssigneeID)
	}
	// Ben takes Maria's other conversation: it is no longer ana's history.
	step("ben holds c2", access(c2, map[string]string{"ben": backend.AccessOwner}), []string{"ben:" + c2}, []string{"ana:" + c2})
	// A new conversation of Maria's is history for both.
	seq, _ := db.LastSeq(ctx)
	c4 := open("maria", "t4").ConversationID
	if g, r := accessSince(t, db, seq); !reflect.DeepEqual(g, []string{"ana:" + c4, "ben:" + c4}) || r != nil {
		t.Fatalf("new conversation: granted %v revoked %v", g, r)
	}
	// Waiting in a queue is readable by its members, with no history.
	step("queue", access(c3, map[string]string{"ana": backend.AccessQueue, "ben": backend.AccessQueue}), []string{"ana:" + c3, "ben:" + c3}, nil)
	if list, _ := db.FindConversations(ctx, backend.ConversationFilter{VisibleTo: "ana"}); len(list) != 3 {
		t.Fatalf("ana's conversations: %d, want c1, c3, c4", len(list))
	}
	// Routing's complete view (after a restart) clears what it no longer
	// lists: ana lost c1, so she loses Maria's history; c1 is now ben's
	// history, and nobody waits on c3.
	step("complete", &backend.RoutingChange{AccessComplete: true, Access: []*backend.ConversationAccess{{ConversationID: c2, Users: map[string]string{"ben": backend.AccessOwner}}}},
		[]string{"ben:" + c1}, []string{"ana:" + c1, "ana:" + c3, "ana:" + c4, "ben:" + c3})
	if c, _ := db.FindConversationByID(ctx, c1); c.AssigneeID != "" {
		t.Fatalf("assignee after release = %q", c.AssigneeID)
	}
	readable, _ := db.ReadableConversations(ctx, "ben")
	if want := map[string]string{c1: m1.ContactID, c2: m1.ContactID, c4: m1.ContactID}; !reflect.DeepEqual(readable, want) {
		t.Fatalf("ben reads %v, want %v", readable, want)
	}
	if ok, _ := db.HoldsCustomer(ctx, "ben", c1); !ok {
		t.Fatal("ben, holding c2, may not answer on c1")
	}
	// Ben completes c2: he stays its assignee, may still answer, and may
	// answer on Maria's other channels too.
	step("ben finished c2", &backend.RoutingChange{Access: []*backend.ConversationAccess{{ConversationID: c2, Users: map[string]string{}, Finished: "ben"}}}, nil, nil)
	if got := levels("ben", c2); !reflect.DeepEqual(got, []string{backend.AccessAssigned}) {
		t.Fatalf("ben's levels after completing: %v", got)
	}
	if c, _ := db.FindConversationByID(ctx, c2); c.AssigneeID != "ben" {
		t.Fatalf("assignee after completion = %q", c.AssigneeID)
	}
	if ok, _ := db.HoldsCustomer(ctx, "ben", c1); !ok {
		t.Fatal("ben does not hold Maria")
	}
	// Ana takes c2 up again: Ben's assignment and his view of Maria end.
	step("ana takes c2", access(c2, map[string]string{"ana": backend.AccessOwner}),
		[]string{"ana:" + c1, "ana:" + c2, "ana:" + c4}, []string{"ben:" + c1, "ben:" + c2, "ben:" + c4})
	if c, _ := db.FindConversationByID(ctx, c2); c.AssigneeID != "ana" {
		t.Fatalf("assignee after ana took it = %q", c.AssigneeID)
	}
	if ok, _ := db.HoldsCustomer(ctx, "ben", c1); ok {
		t.Fatal("ben still holds Maria")
	}
	snap, err := db.ConversationSnapshot(ctx, c2)
	if err != nil || len(snap) != 3 || snap[0].Type != backend.EventContactUpserted || snap[1].Type != backend.EventConversationUpserted || snap[2].Type != backend.EventMessageUpserted {
		t.Fatalf("snapshot: %+v %v", snap, err)
	}
}

// A conversation waiting in a queue names one group of readers: the
// group's members are stored once for every conversation waiting for the
// same people, no per-user row is written, and the feed still hears of
// each user who gained or lost a conversation.
func testAccessQueueGroups(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	conv := func(from string) string {
		m, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: from, ThreadKey: from,
			ExternalID: from, Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		return m.ConversationID
	}
	c1, c2, c3 := conv("maria"), conv("kenji"), conv("li")
	rows := func(table string) int { return h.b.Rows(t, db, table) }
	step := func(name string, list []*backend.ConversationAccess, wantGranted, wantRevoked []string, wantMembers int) {
		t.Helper()
		seq, _ := db.LastSeq(ctx)
		if err := db.SaveRouting(ctx, &backend.RoutingChange{Access: list}); err != nil {
			t.Fatal(err)
		}
		g, r := accessSince(t, db, seq)
		slices.Sort(wantGranted)
		slices.Sort(wantRevoked)
		if !reflect.DeepEqual(g, wantGranted) || !reflect.DeepEqual(r, wantRevoked) {
			t.Fatalf("%s: granted %v revoked %v, want %v and %v", name, g, r, wantGranted, wantRevoked)
		}
		if n := rows("access_groups"); n != wantMembers {
			t.Fatalf("%s: %d group member rows, want %d", name, n, wantMembers)
		}
	}
	queue := map[string]string{"ana": backend.AccessQueue, "ben": backend.AccessQueue, "cy": backend.AccessQueue}
	waiting := func(convs ...string) []*backend.ConversationAccess {
		var out []*backend.ConversationAccess
		for _, c := range convs {
			out = append(out, &backend.ConversationAccess{ConversationID: c, Users: queue})
		}
		return out
	}
	// Two conversations wait in the same queue: its three members are
	// stored once, and no per-user row is written.
	step("waiting", waiting(c1, c2), []string{"ana:" + c1, "ana:" + c2, "ben:" + c1, "ben:" + c2, "cy:" + c1, "cy:" + c2}, nil, 3)
	if n := rows("conversation_access"); n != 0 {
		t.Fatalf("%d per-user access rows for waiting conversations", n)
	}
	if got, _ := db.ConversationAccess(ctx, "ben", c2); !reflect.DeepEqual(got, []string{backend.AccessQueue}) {
		t.Fatalf("ben's levels on a waiting conversation: %v", got)
	}
	if list, _ := db.FindConversations(ctx, backend.ConversationFilter{VisibleTo: "cy"}); len(list) != 2 {
		t.Fatalf("cy sees %d conversations, want 2", len(list))
	}
	// Offered to ana, c1 stops waiting: ben and cy lose it, ana keeps it
	// (no new grant); the group stays for c2.
	step("offer", []*backend.ConversationAccess{{ConversationID: c1, Users: map[string]string{"ana": backend.AccessOffered}}},
		nil, []string{"ben:" + c1, "cy:" + c1}, 3)
	// cy stops serving the queue: every conversation waiting in it tells
	// cy alone, and the old group is dropped for the new one.
	step("cy leaves", []*backend.ConversationAccess{{ConversationID: c2, Users: map[string]string{"ana": backend.AccessQueue, "ben": backend.AccessQueue}}},
		nil, []string{"cy:" + c2}, 2)
	// A third conversation waits for the same people: nothing new stored.
	step("c3 waits", []*backend.ConversationAccess{{ConversationID: c3, Users: map[string]string{"ana": backend.AccessQueue, "ben": backend.AccessQueue}}},
		[]string{"ana:" + c3, "ben:" + c3}, nil, 2)
	// Ben takes c2 and c3 from the queue: ana loses both, the group is gone.
	owner := map[string]string{"ben": backend.AccessOwner}
	step("ben takes both", []*backend.ConversationAccess{{ConversationID: c2, Users: owner}, {ConversationID: c3, Users: owner}},
		nil, []string{"ana:" + c2, "ana:" + c3}, 0)
	if got, _ := db.ConversationAccess(ctx, "ana", c2); len(got) != 0 {
		t.Fatalf("ana's levels after ben took c2: %v", got)
	}
}
