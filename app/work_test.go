package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/app/cache"
	"switchboard/backend"
	"switchboard/backend/server"
)

// recorder keeps the events an app emits.
type recorder struct {
	mu     sync.Mutex
	events []string
	data   []any
}

func (r *recorder) emit(name string, data any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, name)
	r.data = append(r.data, data)
}

func (r *recorder) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e == name {
			n++
		}
	}
	return n
}

// TestAgent_MissedOfferAndTakeFromQueue: Ana lets the visitor's offer
// expire (the engine's clock is driven by the test): she is told she missed
// it; the visitor waits in her queue; she takes it from there.
func TestAgent_MissedOfferAndTakeFromQueue(t *testing.T) {
	requireKeyring(t)
	serveNotifications(t)
	clock := backend.NewFakeClock(time.Now())
	a := New(Config{DataDir: t.TempDir(), Demo: true, KeyringService: "switchboard-test-" + filepath.Base(t.TempDir()), PasswordCost: 4,
		EngineClock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, "browser")
	t.Cleanup(a.shutdown)
	rec := &recorder{}
	a.setEmitter(rec.emit)
	if _, err := a.SignIn(SignInRequest{Email: "ana@example.com", Password: server.DemoPassword}); err != nil {
		t.Fatal(err)
	}
	var offers []Offer
	eventually(t, "the web chat offer", func() bool { offers, _ = a.Offers(); return len(offers) == 1 })
	clock.Advance(31 * time.Second) // the default reservation timeout passes
	var missed []MissedOffer
	eventually(t, "the missed offer", func() bool { missed, _ = a.MissedOffers(); return len(missed) == 1 })
	m := missed[0]
	if m.ReservationID != offers[0].ReservationID || m.ConversationID != offers[0].ConversationID || m.ContactName == "" ||
		m.Channel != "webchat" || m.QueueName != "Support" || !m.ExpiredAt.After(m.OfferedAt) {
		t.Fatalf("missed offer = %+v", m)
	}
	eventually(t, "a missed event", func() bool { return rec.count("missed") == 1 })
	if got, _ := a.Offers(); len(got) != 0 {
		t.Fatalf("offers after the expiry: %+v", got)
	}

	// The visitor waits in My queues; Ana takes the conversation from there.
	var waiting cache.Summary
	eventually(t, "the waiting visitor in My queues", func() bool {
		list, _ := a.Conversations(cache.Filter{Scope: cache.ScopeQueues})
		for _, c := range list {
			if c.ID == m.ConversationID && c.TaskState == backend.TaskPending {
				waiting = c
				return true
			}
		}
		return false
	})
	if waiting.QueueName != "Support" || waiting.TaskCreatedAt.IsZero() {
		t.Fatalf("waiting = %+v", waiting)
	}
	if err := a.TakeTask(waiting.TaskID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the taken conversation in Mine", func() bool {
		list, _ := a.Conversations(cache.Filter{Scope: cache.ScopeMine})
		for _, c := range list {
			if c.ID == m.ConversationID && c.TaskState == backend.TaskAssigned {
				return true
			}
		}
		return false
	})
	// Taking it twice is refused with the reason, which the UI translates.
	err := a.TakeTask(waiting.TaskID)
	var ue uiError
	if err == nil || json.Unmarshal([]byte(err.Error()), &ue) != nil || ue.Code != backend.EConflict || ue.Reason != backend.ReasonTaskTaken {
		t.Fatalf("taking it again: %v", err)
	}
	if err := a.DismissMissedOffer(m.ReservationID); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.MissedOffers(); len(got) != 0 {
		t.Fatalf("after dismissing: %+v", got)
	}
	// An agent may not assign.
	if err := a.AssignTask(waiting.TaskID, "wk_nope"); err == nil || !strings.Contains(err.Error(), `"forbidden"`) {
		t.Fatalf("an agent assigning: %v", err)
	}
}

// TestSession_EndedByTheEngineSaysWhy: the engine revokes the session
// while the app is signed in; the app reports signed_out, ends the
// session, and the next restore says why instead of failing silently.
func TestSession_EndedByTheEngineSaysWhy(t *testing.T) {
	requireKeyring(t)
	a := newTestApp(t, t.TempDir())
	rec := &recorder{}
	a.setEmitter(rec.emit)
	if _, err := a.SignIn(SignInRequest{Email: "ana@example.com", Password: server.DemoPassword}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "online", func() bool { st, _ := a.SyncStatus(); return st.State == cache.StateOnline })
	s, _ := a.current()
	if err := a.engine.DB.RevokeToken(context.Background(), s.client.Token); err != nil {
		t.Fatal(err)
	}
	a.engine.API.Close() // drops the live feed; the reconnect finds the session gone
	eventually(t, "the signed_out event", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for i, e := range rec.events {
			if d, ok := rec.data[i].(SyncStatus); e == "connection" && ok && d.State == cache.StateSignedOut {
				return true
			}
		}
		return false
	})
	_, err := a.RestoreSession()
	var ue uiError
	if err == nil || json.Unmarshal([]byte(err.Error()), &ue) != nil || ue.Reason != ReasonSessionEnded {
		t.Fatalf("restore after the engine ended the session: %v", err)
	}
	if _, err := a.keychain.Get(account{Server: embeddedServer, Email: "ana@example.com"}.keyringKey()); backend.ErrorCode(err) != backend.ENotFound {
		t.Fatalf("the refused token is still in the keyring: %v", err)
	}
	rec.mu.Lock()
	before := len(rec.events)
	rec.mu.Unlock()
	if _, err := a.SignIn(SignInRequest{Email: "ana@example.com", Password: server.DemoPassword}); err != nil {
		t.Fatal(err)
	}
	// By the time sign-in answers, the newest connection event (what browser
	// mode replays to a page that listens late) is the new session's.
	rec.mu.Lock()
	var fresh *SyncStatus
	for i := before; i < len(rec.events); i++ {
		if d, ok := rec.data[i].(SyncStatus); rec.events[i] == "connection" && ok && fresh == nil {
			fresh = &d
		}
	}
	rec.mu.Unlock()
	if fresh == nil || fresh.State == cache.StateSignedOut {
		t.Fatalf("the new session's first connection event, emitted before sign-in answers: %+v", fresh)
	}
	if _, err := a.RestoreSession(); err != nil {
		t.Fatalf("restore after signing in again: %v", err)
	}
}
