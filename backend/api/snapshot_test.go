package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/api"
)

// readSnapshot takes GET /api/sync/snapshot as token and returns its start
// and events; it fails unless the stream ended whole.
func readSnapshot(t *testing.T, do func(token, method, path, body string) (int, []byte), token, query string) (api.SnapshotStart, []backend.Event) {
	t.Helper()
	status, raw := do(token, "GET", "/api/sync/snapshot"+query, "")
	if status != http.StatusOK {
		t.Fatalf("snapshot: %d %s", status, raw)
	}
	var start *api.SnapshotStart
	var events []backend.Event
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<24)
	ended := false
	for sc.Scan() {
		var line api.SnapshotLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("snapshot line %q: %v", sc.Bytes(), err)
		}
		switch {
		case line.Start != nil:
			start = line.Start
		case line.Event != nil:
			events = append(events, *line.Event)
		case line.End != nil:
			if line.End.Events != len(events) {
				t.Fatalf("the snapshot ends saying %d events, it sent %d", line.End.Events, len(events))
			}
			ended = true
		case line.Error != nil:
			t.Fatalf("snapshot failed: %+v", line.Error)
		}
	}
	if start == nil || !ended {
		t.Fatalf("the snapshot did not start and end: %s", raw)
	}
	for _, e := range events {
		if e.Seq != start.Seq {
			t.Fatalf("event %s %s at %d, not at the snapshot's %d", e.Type, e.EntityID, e.Seq, start.Seq)
		}
	}
	return *start, events
}

// feedState pages the user's feed from 0 and returns the entities it leaves
// a desktop holding ("type id"; messages aside, which a snapshot bounds).
func feedState(t *testing.T, do func(token, method, path, body string) (int, []byte), token string) map[string]bool {
	t.Helper()
	have := map[string]bool{}
	var since int64
	for {
		var page api.SyncResponse
		status, raw := do(token, "GET", fmt.Sprintf("/api/sync?since=%d", since), "")
		if status != http.StatusOK || json.Unmarshal(raw, &page) != nil {
			t.Fatalf("sync: %d %s", status, raw)
		}
		for _, e := range page.Events {
			switch {
			case e.Type == backend.EventConversationRemoved:
				delete(have, backend.EventConversationUpserted+" "+e.EntityID)
			case strings.HasSuffix(e.Type, ".deleted"):
				delete(have, strings.TrimSuffix(e.Type, ".deleted")+".upserted "+e.EntityID)
			case e.Type != backend.EventMessageUpserted:
				have[e.Type+" "+e.EntityID] = true
			}
		}
		if since = page.Next; !page.More {
			return have
		}
	}
}

// A snapshot holds what the feed would leave each user's desktop holding:
// the same policy decides. Ana (an agent) gets the conversation she holds
// and the one offered to her, Ben (another agent) neither, a supervisor
// and an admin every conversation, including one nobody was offered; only
// the admin gets admin-only entities.
func TestSnapshot_HoldsWhatThePolicyAllows(t *testing.T) {
	e := startAuthzEngine(t)
	f := e.fixture(t)
	f.work()
	ctx := context.Background()
	stranger, _, err := e.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: "stranger",
		ExternalID: "stranger-1", Text: "nobody took this"})
	if err != nil {
		t.Fatal(err)
	}
	f.channel() // an admin-only entity on the feed
	do := func(token, method, path, body string) (int, []byte) { return e.do(t, token, method, path, body) }
	for _, tc := range []struct {
		name     string
		who      int
		convs    []string
		stranger bool
	}{
		{"owner agent", asOwner, []string{f.value("$conv")}, false},
		{"other agent", asOther, nil, false},
		{"supervisor", asSupervisor, []string{f.value("$conv")}, true},
		{"admin", asAdmin, []string{f.value("$conv")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := e.signIn(t, tc.who)
			_, events := readSnapshot(t, do, token, "")
			got := map[string]bool{}
			for _, ev := range events {
				if ev.Type != backend.EventMessageUpserted {
					got[ev.Type+" "+ev.EntityID] = true
				}
			}
			want := feedState(t, do, token)
			if !maps.Equal(got, want) {
				var extra, missing []string
				for k := range got {
					if !want[k] {
						extra = append(extra, k)
					}
				}
				for k := range want {
					if !got[k] {
						missing = append(missing, k)
					}
				}
				slices.Sort(extra)
				slices.Sort(missing)
				t.Fatalf("the snapshot differs from the feed: more %v, less %v", extra, missing)
			}
			for _, conv := range tc.convs {
				if !got[backend.EventConversationUpserted+" "+conv] {
					t.Fatalf("the snapshot lacks conversation %s", conv)
				}
			}
			if got[backend.EventConversationUpserted+" "+stranger.ConversationID] != tc.stranger {
				t.Fatalf("the unrouted conversation in the snapshot: %v, want %v", !tc.stranger, tc.stranger)
			}
			if tc.who == asOther {
				for k := range got {
					if strings.HasPrefix(k, "conversation.") || strings.HasPrefix(k, "contact.") || strings.HasPrefix(k, "task.") {
						t.Fatalf("ben's snapshot holds %s", k)
					}
				}
			}
		})
	}
}

// A snapshot taken while messages arrive, then the feed followed from its
// sequence, bring every message exactly once: none missing, none twice.
func TestSnapshot_FeedFromItsSeqMissesNothing(t *testing.T) {
	e := MustStartEngine(t)
	token := e.SignIn(t, "admin@example.com")
	ctx := context.Background()
	const writes = 300
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range writes {
			if _, _, err := e.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot",
				ExternalUserID: fmt.Sprint("customer-", i%30), ExternalID: fmt.Sprint("m-", i), Text: fmt.Sprint("message ", i)}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	do := func(token, method, path, body string) (int, []byte) { return e.DoRaw(t, token, method, path, body) }
	start, events := readSnapshot(t, do, token, "?messages=1000")
	seen := map[string]int{}
	for _, ev := range events {
		if ev.Type == backend.EventMessageUpserted {
			seen[ev.EntityID]++
		}
	}
	inSnapshot := len(seen)
	wg.Wait()
	since := start.Seq
	for {
		var page api.SyncResponse
		if status := e.Do(t, token, "GET", fmt.Sprintf("/api/sync?since=%d", since), "", &page); status != http.StatusOK {
			t.Fatalf("sync: %d", status)
		}
		for _, ev := range page.Events {
			if ev.Seq <= start.Seq {
				t.Fatalf("the feed from %d gave event %d", start.Seq, ev.Seq)
			}
			if ev.Type == backend.EventMessageUpserted {
				seen[ev.EntityID]++
			}
		}
		if since = page.Next; !page.More {
			break
		}
	}
	var stored int
	e.DB.Reader().QueryRow(`SELECT COUNT(*) FROM messages`).Scan(&stored)
	if stored != writes || len(seen) != writes {
		t.Fatalf("%d messages stored, %d seen (%d in the snapshot)", stored, len(seen), inSnapshot)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("message %s came %d times", id, n)
		}
	}
	// The snapshot held exactly the messages logged at or before its sequence.
	var before int
	e.DB.Reader().QueryRow(`SELECT COUNT(*) FROM events WHERE type = ? AND seq <= ?`, backend.EventMessageUpserted, start.Seq).Scan(&before)
	if before != inSnapshot {
		t.Fatalf("the snapshot at %d held %d messages; %d were logged by then", start.Seq, inSnapshot, before)
	}
}

// The sync route records how far each desktop has read; pruning keeps every
// event after that cursor, and the route tells a cursor below the floor to
// take the snapshot instead of handing it a page with a gap.
func TestSync_PruningKeepsWhatADesktopHasNotRead(t *testing.T) {
	e := MustStartEngine(t)
	token := e.SignIn(t, "admin@example.com")
	ctx := context.Background()
	inbound := func(from string, n int) {
		for i := range n {
			if _, _, err := e.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: from,
				ExternalID: fmt.Sprint(from, i), Text: from}); err != nil {
				t.Fatal(err)
			}
		}
	}
	inbound("before", 10)
	read, _ := e.DB.LastSeq(ctx)
	var page api.SyncResponse
	if status := e.Do(t, token, "GET", fmt.Sprintf("/api/sync?since=%d", read), "", &page); status != http.StatusOK || page.Behind {
		t.Fatalf("sync: %d %+v", status, page)
	}
	inbound("after", 10)
	head, _ := e.DB.LastSeq(ctx)
	// An hour on, everything is past the grace period; the desktop's cursor holds.
	res, err := e.DB.PruneEvents(ctx, backend.PruneRequest{Now: time.Now().Add(time.Hour), Grace: time.Minute, Retention: 30 * 24 * time.Hour})
	if err != nil || res.Deleted == 0 || res.Floor > read {
		t.Fatalf("prune: %+v %v, want events up to at most %d deleted", res, err, read)
	}
	var since int64 = read
	seen := 0
	for {
		var page api.SyncResponse
		if status := e.Do(t, token, "GET", fmt.Sprintf("/api/sync?since=%d", since), "", &page); status != http.StatusOK || page.Behind {
			t.Fatalf("sync after pruning: %d %+v", status, page)
		}
		for _, ev := range page.Events {
			if ev.Type == backend.EventMessageUpserted {
				seen++
			}
		}
		if since = page.Next; !page.More {
			break
		}
	}
	if seen != 10 || since != head {
		t.Fatalf("after pruning the feed from the cursor brought %d of 10 new messages, up to %d of %d", seen, since, head)
	}
	var behind api.SyncResponse
	e.Do(t, token, "GET", "/api/sync?since=0", "", &behind)
	if !behind.Behind || behind.Floor != res.Floor || len(behind.Events) != 0 || behind.Next != 0 {
		t.Fatalf("a cursor below the floor got %+v", behind)
	}
	// The live feed refuses such a cursor too, before upgrading.
	if status, raw := e.DoRaw(t, token, "GET", "/api/ws?since=0", ""); status != http.StatusConflict || !strings.Contains(string(raw), "snapshot") {
		t.Fatalf("the live feed from below the floor: %d %s", status, raw)
	}
}
