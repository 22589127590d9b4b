package app

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"switchboard/app/cache"
	"switchboard/backend"
	"switchboard/backend/server"
)

// fakeNotifications is a freedesktop Notifications service on the test's
// private session bus, standing in for the desktop's notification daemon.
type fakeNotifications struct {
	mu       sync.Mutex
	received []string
}

func (f *fakeNotifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.received = append(f.received, summary+" | "+body)
	return uint32(len(f.received)), nil
}

func (f *fakeNotifications) GetCapabilities() ([]string, *dbus.Error) { return []string{"body"}, nil }

func (f *fakeNotifications) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "fake", "switchboard-test", "1", "1.2", nil
}

func (f *fakeNotifications) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.received...)
}

func serveNotifications(t *testing.T) *fakeNotifications {
	t.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &fakeNotifications{}
	if err := conn.Export(f, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own the notifications name: %v %v", reply, err)
	}
	return f
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAgent_OffersNotifyAcceptAndFinish signs in as a demo agent, gets the
// demo's two offers (and a real D-Bus desktop notification for each),
// accepts one, rejects the other, and wraps the task up.
func TestAgent_OffersNotifyAcceptAndFinish(t *testing.T) {
	requireKeyring(t)
	notes := serveNotifications(t)
	a := newTestApp(t, t.TempDir())
	var mu sync.Mutex
	events := map[string]int{}
	a.setEmitter(func(name string, data any) { mu.Lock(); events[name]++; mu.Unlock() })
	if _, err := a.SignIn(SignInRequest{Email: "ana@example.com", Password: server.DemoPassword}); err != nil {
		t.Fatal(err)
	}
	var offers []Offer
	eventually(t, "two offers", func() bool { offers, _ = a.Offers(); return len(offers) == 2 })
	for _, o := range offers {
		if o.ConversationID == "" || o.ContactName == "" || o.Preview == "" || o.QueueName != "Support" || !o.ExpiresAt.After(o.CreatedAt) {
			t.Fatalf("offer = %+v", o)
		}
	}
	eventually(t, "two desktop notifications", func() bool { return len(notes.all()) == 2 })
	if n := notes.all()[0]; !strings.HasPrefix(n, "New chat from ") || !strings.Contains(n, "Support: ") {
		t.Fatalf("notification = %q", n)
	}
	mu.Lock()
	if events["offer"] != 2 {
		t.Fatalf("offer events = %d", events["offer"])
	}
	mu.Unlock()

	if err := a.AcceptOffer(offers[0].ReservationID); err != nil {
		t.Fatal(err)
	}
	if err := a.RejectOffer(offers[1].ReservationID); err != nil {
		t.Fatal(err)
	}
	if err := a.AcceptOffer("res_gone"); err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Fatalf("accepting an unknown offer: %v", err)
	}
	var mine []cache.Summary
	eventually(t, "the accepted conversation in Mine", func() bool {
		mine, _ = a.Conversations(cache.Filter{Scope: cache.ScopeMine})
		return len(mine) == 1 && mine[0].ID == offers[0].ConversationID && mine[0].TaskState == backend.TaskAssigned
	})
	if _, err := a.Conversations(cache.Filter{Scope: cache.ScopeAll}); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("an agent listing all: %v", err)
	}
	d, err := a.Conversation(mine[0].ID)
	if err != nil || d.Task == nil || d.Task.ID != mine[0].TaskID || len(d.Timeline) == 0 || len(d.ContactConversations) == 0 {
		t.Fatalf("detail = %+v, %v", d, err)
	}
	if _, err := a.SendNote(d.Conversation.ID, "VIP: be nice"); err != nil {
		t.Fatal(err)
	}
	if err := a.WrapUp(d.Task.ID, "Resolved"); err != nil {
		t.Fatal(err)
	}
	if err := a.CompleteTask(d.Task.ID, "Resolved"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the task completed and the note synced", func() bool {
		d, _ = a.Conversation(mine[0].ID)
		for _, m := range d.Messages {
			if m.Private && m.Text == "VIP: be nice" && !strings.HasPrefix(m.ID, "local:") {
				return d.Task == nil
			}
		}
		return false
	})
	st, err := a.SetActivity("Break")
	if err != nil || st.Worker == nil || st.Worker.Activity != "Break" || len(st.Activities) < 4 || len(st.Dispositions) == 0 {
		t.Fatalf("activity = %+v, %v", st, err)
	}
	targets, err := a.TransferTargets()
	if err != nil || len(targets.Workers) != 1 || targets.Workers[0].Name != "Ben Agent" || len(targets.Queues) != 2 {
		t.Fatalf("targets = %+v, %v", targets, err)
	}
	canned, err := a.CannedResponses()
	if err != nil || len(canned) != 3 {
		t.Fatalf("canned = %+v, %v", canned, err)
	}
	res, err := a.SearchMessages("order")
	if err != nil || len(res.Hits) == 0 || !strings.Contains(res.Hits[0].Snippet, "[order") {
		t.Fatalf("search = %+v, %v", res, err)
	}
}
