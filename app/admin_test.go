package app

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/backend"
)

// TestAdminBindings runs the admin console's bound methods against the
// engine embedded in the app, from the first run of an empty workspace:
// the first admin, routing, people, labels, canned responses, channels,
// the Studio import, the audit log, and an invitation accepted by link.
func TestAdminBindings(t *testing.T) {
	requireKeyring(t)
	a := New(Config{DataDir: t.TempDir(), KeyringService: "switchboard-test-" + filepath.Base(t.TempDir()), PasswordCost: 4,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, "browser")
	t.Cleanup(a.shutdown)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	st, err := a.SetupStatus("")
	must(err)
	if !st.NeedsAdmin {
		t.Fatal("an empty workspace does not ask for its first admin")
	}
	s, err := a.CreateFirstAdmin(FirstAdmin{Name: "Ada Admin", Email: "ada@example.com", Password: "password1"})
	must(err)
	if s.User.Role != backend.RoleAdmin || !s.Embedded {
		t.Fatalf("session %+v", s)
	}
	if _, err := a.CreateFirstAdmin(FirstAdmin{Name: "Eve", Email: "eve@example.com", Password: "password1"}); backend.ErrorCode(err) == "" {
		t.Fatal("a second first admin was created")
	}

	q, err := a.SaveQueue("", QueueInput{Name: "Spanish", TargetWorkers: `"es" in worker.languages`})
	must(err)
	w, err := a.SaveWorker("", WorkerInput{Name: "Lola", Attributes: map[string]any{"languages": []any{"es"}}, Capacity: map[string]int{"chat": 2}})
	must(err)
	p, err := a.PreviewQueue(q.TargetWorkers)
	must(err)
	if !p.Valid || len(p.Workers) != 1 || p.Workers[0].ID != w.ID {
		t.Fatalf("preview %+v", p)
	}
	wf, err := a.SaveWorkflow("", WorkflowInput{Name: "Spanish first", Default: []backend.WorkflowTarget{{QueueID: q.ID}}})
	must(err)
	imp, err := a.ImportWorkflow("From Flex", `{"task_routing":{"default_filter":{"queue":"WQ1"}}}`, map[string]string{"WQ1": q.ID})
	must(err)
	setup, err := a.RoutingSetup()
	must(err)
	if len(setup.Queues) != 2 || len(setup.Workflows) != 3 || len(setup.Workers) != 1 {
		t.Fatalf("routing %+v", setup)
	}
	must(a.DeleteWorkflow(imp.Workflow.ID))
	must(a.DeleteWorkflow(wf.ID))
	must(a.DeleteQueue(q.ID))
	must(a.DeleteWorker(w.ID))

	u, err := a.CreateUser(NewUser{Name: "Ben", Email: "ben@example.com", Role: backend.RoleAgent, Password: "password1"})
	must(err)
	users, err := a.Users()
	must(err)
	if len(users) != 2 || u.ID == "" {
		t.Fatalf("users %+v", users)
	}
	gone, err := a.CreateInvite("gone@example.com", "Gone", backend.RoleAgent)
	must(err)
	must(a.DeleteInvite(gone.Invite.ID))

	l, err := a.SaveLabel("", LabelInput{Name: "VIP", Color: "#aa00aa"})
	must(err)
	must(a.SaveCanned("", CannedInput{Shortcut: "hi", Text: "Hello!"}))
	eventually(t, "the label and the canned response in the cache", func() bool {
		labels, _ := a.Labels()
		canned, _ := a.CannedResponses()
		return len(labels) == 1 && labels[0].ID == l.ID && len(canned) == 1
	})
	canned, _ := a.CannedResponses()
	must(a.DeleteCanned(canned[0].ID))
	must(a.DeleteLabel(l.ID))
	eventually(t, "their removal in the cache", func() bool {
		labels, _ := a.Labels()
		canned, _ := a.CannedResponses()
		return len(labels) == 0 && len(canned) == 0
	})

	must(a.SaveChannel("webchat", "site", []byte(`{"allowedOrigins":["https://shop.example"],"title":"Shop"}`), true))
	chans, err := a.ChannelStatuses()
	must(err)
	if len(chans) != 1 || chans[0].State != backend.ChannelRunning {
		t.Fatalf("channels %+v", chans)
	}
	must(a.SetChannelEnabled("webchat", "site", false))
	must(a.RemoveChannel("webchat", "site"))
	if _, err := a.TestChannel("webchat", "site", []byte(`{"allowedOrigins":["*"]}`)); backend.ErrorCode(err) == "" || !strings.Contains(err.Error(), "no connection test") {
		t.Fatalf("testing a web chat: %v", err)
	}
	im, err := a.ImportStudio(`{"states":[{"name":"Trigger","type":"trigger","transitions":[{"event":"incomingMessage"}],"properties":{}}],"initial_state":"Trigger"}`)
	must(err)
	if !strings.Contains(string(im.Flow), "trigger") {
		t.Fatalf("imported %s", im.Flow)
	}

	entries, err := a.AuditLog(0)
	must(err)
	if len(entries) < 15 || entries[0].Action != "channel.remove" {
		t.Fatalf("audit log of %d entries, newest %+v", len(entries), entries[0])
	}

	inv, err := a.CreateInvite("cleo@example.com", "Cleo", backend.RoleSupervisor)
	must(err)
	s, err = a.AcceptInvite(inv.Link, "Cleo C.", "password2")
	must(err)
	if s.User.Email != "cleo@example.com" || s.User.Role != backend.RoleSupervisor || s.User.Name != "Cleo C." {
		t.Fatalf("signed in as %+v", s.User)
	}
	if _, err := a.AcceptInvite(inv.Link, "Cleo", "password2"); backend.ErrorCode(err) == "" {
		t.Fatal("an invitation link worked twice")
	}
	if _, err := a.AcceptInvite("https://example.com/not-an-invite", "x", "password2"); err == nil {
		t.Fatal("a link without /invite/ was accepted")
	}
}
