package app

import (
	"context"
	"os"
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
// Other test binaries share that bus (go test runs packages in parallel)
// and their apps notify too, so it keeps only what this process sent.
type fakeNotifications struct {
	conn     *dbus.Conn
	mu       sync.Mutex
	received []string
}

func (f *fakeNotifications) Notify(sender dbus.Sender, app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	var pid uint32
	if err := f.conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, string(sender)).Store(&pid); err != nil {
		return 0, dbus.MakeFailedError(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if int(pid) == os.Getpid() {
		f.received = append(f.received, summary+" | "+body)
	}
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
	f := &fakeNotifications{conn: conn}
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
// waiting web chat offered (with a real D-Bus desktop notification),
// accepts it, rejects a second offer, and wraps the task up.
func TestAgent_OffersNotifyAcceptAndFinish(t *testing.T) {
	requireKeyring(t)
	notes := serveNotifications(t)
	a := newTestApp(t, t.TempDir())
	var mu sync.Mutex
	events := map[string]int{}
	a.setEmitter(func(name string, data any) { mu.Lock(); events[name]++; mu.Unlock() })
	// The demo's waiting web chat is offered to the agent with room: Ana.
	if _, err := a.SignIn(SignInRequest{Email: "ana@example.com", Password: server.DemoPassword}); err != nil {
		t.Fatal(err)
	}
	var offers []Offer
	eventually(t, "the web chat offer", func() bool { offers, _ = a.Offers(); return len(offers) == 1 })
	o := offers[0]
	if o.Channel != "webchat" || o.ContactName == "" || !strings.Contains(o.Preview, "live agent") || o.QueueName != "Support" || !o.ExpiresAt.After(o.CreatedAt) {
		t.Fatalf("offer = %+v", o)
	}
	eventually(t, "a desktop notification", func() bool { return len(notes.all()) == 1 })
	if n := notes.all()[0]; !strings.HasPrefix(n, "New chat from ") || !strings.Contains(n, "Support: ") {
		t.Fatalf("notification = %q", n)
	}
	mu.Lock()
	if events["offer"] != 1 {
		t.Fatalf("offer events = %d", events["offer"])
	}
	mu.Unlock()
	if err := a.AcceptOffer(o.ReservationID); err != nil {
		t.Fatal(err)
	}

	// A second offer (an email while Ben is away) is rejected.
	ctx := context.Background()
	r := a.engine.Routing
	ben, err := r.WorkerByUserID(ctx, userID(t, a, "ben@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetWorkerActivity(ctx, ben.ID, backend.ActivityOffline); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelEmail, QueueID: "q_support"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the email offer", func() bool { offers, _ = a.Offers(); return len(offers) == 1 && offers[0].TaskChannel == "email" })
	if err := a.RejectOffer(offers[0].ReservationID); err != nil {
		t.Fatal(err)
	}
	if err := a.AcceptOffer("res_gone"); err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Fatalf("accepting an unknown offer: %v", err)
	}
	offers = []Offer{o}
	var mine []cache.Summary
	eventually(t, "the accepted conversation in Mine", func() bool {
		all, _ := a.Conversations(cache.Filter{Scope: cache.ScopeMine})
		mine = nil
		for _, c := range all {
			if c.ID == offers[0].ConversationID && c.TaskState == backend.TaskAssigned {
				mine = append(mine, c)
			}
		}
		return len(mine) == 1
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
	if err := a.WrapUp(d.Task.ID, "issue_solved"); err != nil {
		t.Fatal(err)
	}
	if err := a.CompleteTask(d.Task.ID, "issue_solved"); err != nil {
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

// TestFlowEditor reads, dry-runs and saves a flow through the bound methods.
func TestFlowEditor(t *testing.T) {
	requireKeyring(t)
	a := newTestApp(t, t.TempDir())
	if _, err := a.SignIn(SignInRequest{Email: "admin@example.com", Password: server.DemoPassword}); err != nil {
		t.Fatal(err)
	}
	doc, err := a.GetFlow("sms.twilio/support")
	if err != nil || !doc.IsDefault || len(doc.Flow) == 0 {
		t.Fatalf("flow = %+v, %v", doc, err)
	}
	res, err := a.TestFlow(string(doc.Flow), []string{"I want a live agent"})
	if err != nil || !strings.Contains(string(res.Runs), `"status":"agent"`) {
		t.Fatalf("test = %s, %v", res.Runs, err)
	}
	if _, err := a.TestFlow(`{"name":`, nil); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Fatalf("malformed: %v", err)
	}
	saved, err := a.SaveFlow("sms.twilio/support", string(doc.Flow))
	if err != nil || saved.Revision != 1 {
		t.Fatalf("save = %+v, %v", saved, err)
	}
	if _, err := a.SaveFlow("sms.twilio/support", `{"name":"x","widgets":[]}`); err == nil || !strings.Contains(err.Error(), "invalid") {
		t.Fatalf("invalid save: %v", err)
	}
	if _, err := a.SaveFlow("nokey", `{}`); err == nil || !strings.Contains(err.Error(), "connector/instance") {
		t.Fatalf("bad key: %v", err)
	}
}

func userID(t *testing.T, a *App, email string) string {
	t.Helper()
	users, err := a.engine.DB.FindUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Email == email {
			return u.ID
		}
	}
	t.Fatalf("no user %s", email)
	return ""
}
