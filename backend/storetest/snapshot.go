package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"switchboard/backend"
)

// snapshotOf reads a snapshot into its start and events.
func snapshotOf(t *testing.T, db Store, req backend.SnapshotRequest) (backend.SnapshotStart, []backend.Event) {
	t.Helper()
	var start backend.SnapshotStart
	var events []backend.Event
	err := db.SyncSnapshot(context.Background(), req, backend.SnapshotSink{
		Start: func(s backend.SnapshotStart) error { start = s; return nil },
		Event: func(e backend.Event) error { events = append(events, e); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return start, events
}

// entities lists a snapshot's events as "type id".
func entities(events []backend.Event, types ...string) []string {
	var out []string
	for _, e := range events {
		if slices.Contains(types, e.Type) {
			out = append(out, e.Type+" "+e.EntityID)
		}
	}
	return out
}

// A snapshot holds the conversations the reader may read (all of them for
// no reader), newest first, each with its contact, itself and its newest
// messages oldest first; the latest event of each other entity; and the
// sequence it agrees with.
func testSyncSnapshot(t *testing.T, h harness) {
	ctx := context.Background()
	db := h.open(t)
	var convs []string
	for i, from := range []string{"maria", "kenji", "lea"} {
		for j := range 3 + i {
			m, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: from,
				ExternalID: fmt.Sprintf("%s-%d", from, j), Text: fmt.Sprintf("%s %d", from, j)})
			if err != nil {
				t.Fatal(err)
			}
			if j == 0 {
				convs = append(convs, m.ConversationID)
			}
		}
	}
	if err := db.SaveRouting(ctx, &backend.RoutingChange{Access: []*backend.ConversationAccess{
		{ConversationID: convs[0], Users: map[string]string{"ana": backend.AccessOwner}}}}); err != nil {
		t.Fatal(err)
	}
	head, _ := db.LastSeq(ctx)

	start, events := snapshotOf(t, db, backend.SnapshotRequest{Messages: 2})
	if start.Seq != head || start.Conversations != 3 || start.Readable != nil {
		t.Fatalf("start %+v, want seq %d and 3 conversations", start, head)
	}
	// Lea wrote last, Maria first.
	if got := entities(events, backend.EventConversationUpserted); !slices.Equal(got, []string{
		"conversation.upserted " + convs[2], "conversation.upserted " + convs[1], "conversation.upserted " + convs[0]}) {
		t.Fatalf("conversations %v, want newest first", got)
	}
	var texts []string
	for _, e := range events {
		if e.Type == backend.EventMessageUpserted {
			var m backend.Message
			json.Unmarshal(e.Data, &m)
			texts = append(texts, m.Text)
		}
	}
	if want := []string{"lea 3", "lea 4", "kenji 2", "kenji 3", "maria 1", "maria 2"}; !slices.Equal(texts, want) {
		t.Fatalf("messages %v, want the two newest of each, oldest first: %v", texts, want)
	}
	if n := len(entities(events, backend.EventContactUpserted)); n != 3 {
		t.Fatalf("%d contacts, want 3", n)
	}
	for _, typ := range backend.SnapshotTableTypes[4:] {
		if got := entities(events, typ); got != nil {
			t.Fatalf("the snapshot carries %v", got)
		}
	}

	// Ana reads Maria's conversation only.
	start, events = snapshotOf(t, db, backend.SnapshotRequest{ReaderID: "ana", Messages: 10})
	if _, ok := start.Readable[convs[0]]; !ok || len(start.Readable) != 1 || start.Conversations != 1 {
		t.Fatalf("ana's start %+v, want Maria's conversation only", start)
	}
	if got := entities(events, backend.EventConversationUpserted, backend.EventContactUpserted); len(got) != 2 || got[1] != "conversation.upserted "+convs[0] {
		t.Fatalf("ana's snapshot: %v", got)
	}
}

// Pruning deletes what every session has read and is past the grace
// period, or past the retention horizon; it keeps the newest event and
// the latest event of each entity a snapshot reads from the log, and
// raises the floor to what it deleted.
func testPruneEvents(t *testing.T, h harness) {
	ctx := context.Background()
	c := &clock{}
	c.set(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	db := h.openClock(t, c, Options{})
	if err := db.CreateUser(ctx, &backend.User{Name: "Ana", Email: "ana@example.com", Role: backend.RoleAgent}, "correct horse"); err != nil {
		t.Fatal(err)
	}
	token, _, err := db.Authenticate(ctx, "ana@example.com", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := db.SessionByToken(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	inbound := func(id string) {
		if _, _, err := db.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: "maria",
			ExternalID: id, Text: id}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		inbound(fmt.Sprint("old-", i))
	}
	read, _ := db.LastSeq(ctx)
	if err := db.RecordFeedCursor(ctx, sess.ID, read); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordFeedCursor(ctx, sess.ID, read-3); err != nil { // a cursor never moves back
		t.Fatal(err)
	}
	c.add(time.Hour)
	for i := range 5 {
		inbound(fmt.Sprint("new-", i))
	}
	head, _ := db.LastSeq(ctx)
	prune := func(now time.Time, retention time.Duration) backend.PruneResult {
		t.Helper()
		res, err := db.PruneEvents(ctx, backend.PruneRequest{Now: now, Grace: 10 * time.Minute, Retention: retention})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	// The session read up to `read`: the events after it stay.
	res := prune(c.Now(), 30*24*time.Hour)
	if res.Deleted == 0 || res.Floor > read || res.Floor == 0 {
		t.Fatalf("prune: %+v, want events up to at most %d deleted", res, read)
	}
	if floor, _ := db.FeedFloor(ctx); floor != res.Floor {
		t.Fatalf("floor %d, prune said %d", floor, res.Floor)
	}
	after, _ := db.EventsSince(ctx, read, 1000)
	if int64(len(after)) != head-read || after[0].Seq != read+1 {
		t.Fatalf("%d events after the session's cursor remain, want all %d", len(after), head-read)
	}
	if last, _ := db.LastSeq(ctx); last != head {
		t.Fatalf("head moved from %d to %d", head, last)
	}
	// Past the retention horizon everything goes but the newest event.
	res = prune(c.Now().Add(365*24*time.Hour), 24*time.Hour)
	if res.Floor != head-1 {
		t.Fatalf("prune past retention: %+v, want the floor at %d", res, head-1)
	}
	left, _ := db.EventsSince(ctx, 0, 1000)
	users := 0
	for _, e := range left {
		if e.Seq != head && slices.Contains(backend.SnapshotTableTypes, e.Type) {
			t.Fatalf("pruning kept %s %d", e.Type, e.Seq)
		}
		if e.Type == backend.EventUserUpserted {
			users++
		}
	}
	if users != 1 { // the latest (only) event of Ana, whom a snapshot reads from the log
		t.Fatalf("pruning kept %d user events, want Ana's latest", users)
	}
	if last, _ := db.LastSeq(ctx); last != head {
		t.Fatalf("head moved from %d to %d", head, last)
	}
	// What the snapshot reads stays whole.
	_, events := snapshotOf(t, db, backend.SnapshotRequest{Messages: 100})
	if n := len(entities(events, backend.EventMessageUpserted)); n != 10 {
		t.Fatalf("after pruning the snapshot holds %d messages, want 10", n)
	}
}
