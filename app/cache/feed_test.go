package cache_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/app/cache"
	"switchboard/app/client"
	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/server"
)

// feedWorld is an engine with two agents (ana, ben), a supervisor (sue)
// and an admin; ana and ben each hold one conversation.
type feedWorld struct {
	e                  *server.Server
	users              map[string]*backend.User
	workers            map[string]string
	clients            map[string]*client.Client
	convA, convB       string
	taskA, taskB       string
	noteB, contactB    string
	flowSecret, secret string
}

const feedPassword = "password1"

func startFeedWorld(t *testing.T) *feedWorld {
	t.Helper()
	ctx := context.Background()
	e, err := server.Open(ctx, server.Config{DataDir: t.TempDir(), PasswordCost: 4, SecretKey: secret.MustNew(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	w := &feedWorld{e: e, users: map[string]*backend.User{}, workers: map[string]string{}, clients: map[string]*client.Client{},
		flowSecret: "Bearer crm-secret-8841", secret: "channel-secret-5512"}
	for _, u := range []backend.User{
		{Name: "Ana", Email: "ana@example.com", Role: backend.RoleAgent},
		{Name: "Ben", Email: "ben@example.com", Role: backend.RoleAgent},
		{Name: "Sue", Email: "sue@example.com", Role: backend.RoleSupervisor},
		{Name: "Alex", Email: "admin@example.com", Role: backend.RoleAdmin},
	} {
		if err := e.DB.CreateUser(ctx, &u, feedPassword); err != nil {
			t.Fatal(err)
		}
		name := strings.ToLower(u.Name)
		w.users[name] = &u
		if u.Role == backend.RoleAgent {
			wk, err := e.Routing.UpsertWorker(ctx, &backend.Worker{UserID: u.ID, Name: u.Name})
			if err != nil {
				t.Fatal(err)
			}
			w.workers[name] = wk.ID
		}
		cl := client.New(e.URL(), "")
		if _, err := cl.SignIn(ctx, u.Email, feedPassword); err != nil {
			t.Fatal(err)
		}
		w.clients[name] = cl
	}
	// Admin-only configuration: a channel with a secret, a flow with a
	// secret header.
	if err := e.Channels.PutInstance(ctx, &backend.ChannelInstance{Connector: "custom", Instance: "crm", Enabled: true,
		Config: json.RawMessage(fmt.Sprintf(`{"secret":%q,"url":"https://crm.example.com/out"}`, w.secret))}); err != nil {
		t.Fatal(err)
	}
	f := &backend.Flow{Name: "CRM", Widgets: []backend.FlowWidget{
		{Name: "trigger", Type: "trigger", Transitions: map[string]string{"incomingMessage": "crm"}},
		{Name: "crm", Type: "make-http-request", Transitions: map[string]string{"success": "done", "failed": "done", "timeout": "done"},
			Properties: json.RawMessage(fmt.Sprintf(`{"url":"https://crm.example.com/x","headers":{"Authorization":%q}}`, w.flowSecret))},
		{Name: "done", Type: "end"},
	}}
	if _, err := e.Flows.SetFlow(ctx, backend.FlowKey("telegram", "other"), f); err != nil {
		t.Fatal(err)
	}
	w.convA, w.taskA = w.assign(t, "ana", "Maria", "Where is my order?")
	w.convB, w.taskB = w.assign(t, "ben", "Olivia", "I want a refund")
	note, err := w.clients["ben"].SendMessage(ctx, w.convB, "Olivia was rude last time, careful", "note-b", true)
	if err != nil {
		t.Fatal(err)
	}
	w.noteB = note.Text
	conv, _ := e.DB.FindConversationByID(ctx, w.convB)
	w.contactB = conv.ContactID
	return w
}

// assign opens a conversation and makes its task agent's: only they are
// available when it is offered.
func (w *feedWorld) assign(t *testing.T, agent, customer, text string) (conv, task string) {
	t.Helper()
	ctx := context.Background()
	r := w.e.Routing
	for name, id := range w.workers {
		activity := backend.ActivityOffline
		if name == agent {
			activity = backend.ActivityAvailable
		}
		if _, err := r.SetWorkerActivity(ctx, id, activity); err != nil {
			t.Fatal(err)
		}
	}
	m, _, err := w.e.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: customer,
		DisplayName: customer, ExternalID: customer + "-1", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := r.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelChat, QueueID: "q_support", ConversationID: m.ConversationID})
	if err != nil {
		t.Fatal(err)
	}
	w.accept(t, agent, tk.ID)
	return m.ConversationID, tk.ID
}

// accept answers agent's pending offer of a task through the API, as the
// agent.
func (w *feedWorld) accept(t *testing.T, agent, taskID string) {
	t.Helper()
	res, err := w.e.Routing.Reservations(context.Background(), w.workers[agent])
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.TaskID == taskID && r.State == backend.ReservationPending {
			if err := w.clients[agent].Do(context.Background(), "POST", "/api/reservations/"+r.ID+"/accept", nil, nil); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("task %s is not offered to %s", taskID, agent)
}

// syncAll pages through a user's whole feed.
func syncAll(t *testing.T, cl *client.Client) []backend.Event {
	t.Helper()
	var out []backend.Event
	since := int64(0)
	for {
		page, err := cl.Sync(context.Background(), since, 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Events...)
		since = page.Next
		if !page.More {
			return out
		}
	}
}

// liveAll reads a user's WebSocket feed from the start until it reaches
// the engine's newest event.
func liveAll(t *testing.T, w *feedWorld, cl *client.Client) []backend.Event {
	t.Helper()
	feed, err := cl.OpenFeed(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	last, _ := w.e.DB.LastSeq(context.Background())
	var out []backend.Event
	for pos := int64(0); pos < last; {
		events, next, err := feed.Next()
		if err != nil {
			t.Fatal(err)
		}
		out, pos = append(out, events...), next
	}
	return out
}

// leaks returns what in events ana must never see.
func (w *feedWorld) leaks(events []backend.Event) []string {
	var bad []string
	for _, e := range events {
		raw := string(e.Data) + e.EntityID
		switch {
		case strings.HasPrefix(e.Type, "flow."), e.Type == backend.EventQueueStats, e.Type == backend.EventWorkflowUpserted:
			bad = append(bad, fmt.Sprintf("%d %s (admin or supervisor only)", e.Seq, e.Type))
		case e.Type == backend.EventUserUpserted && e.EntityID != w.users["ana"].ID:
			bad = append(bad, fmt.Sprintf("%d %s of another user", e.Seq, e.Type))
		case strings.Contains(raw, w.convB), strings.Contains(raw, w.taskB), strings.Contains(raw, w.contactB):
			bad = append(bad, fmt.Sprintf("%d %s about ben's conversation", e.Seq, e.Type))
		case e.Type == backend.EventReservationUpserted && strings.Contains(raw, w.workers["ben"]):
			bad = append(bad, fmt.Sprintf("%d %s of ben's", e.Seq, e.Type))
		}
		for _, s := range []string{w.noteB, "Olivia", "ben@example.com", "sue@example.com", "admin@example.com", w.secret, w.flowSecret} {
			if strings.Contains(raw, s) {
				bad = append(bad, fmt.Sprintf("%d %s carries %q", e.Seq, e.Type, s))
			}
		}
	}
	return bad
}

func has(events []backend.Event, typ, id string) bool {
	for _, e := range events {
		if e.Type == typ && e.EntityID == id {
			return true
		}
	}
	return false
}

// TestFeed_AgentsSeeOnlyTheirWork: ana's sync and WebSocket never carry
// ben's conversation, note or task, any flow or channel configuration or
// another user's email; the supervisor's carry both conversations. A
// transfer to ana brings ben's conversation with its history into her
// desktop cache; a transfer away removes it.
func TestFeed_AgentsSeeOnlyTheirWork(t *testing.T) {
	ctx := context.Background()
	w := startFeedWorld(t)

	for _, feed := range []struct {
		name   string
		events []backend.Event
	}{{"sync", syncAll(t, w.clients["ana"])}, {"websocket", liveAll(t, w, w.clients["ana"])}} {
		if bad := w.leaks(feed.events); len(bad) > 0 {
			t.Errorf("ana's %s carries what is not hers:\n%s", feed.name, strings.Join(bad, "\n"))
		}
		if !has(feed.events, backend.EventConversationUpserted, w.convA) || !has(feed.events, backend.EventTaskUpserted, w.taskA) {
			t.Errorf("ana's %s lacks her own conversation or task", feed.name)
		}
	}
	for _, events := range [][]backend.Event{syncAll(t, w.clients["sue"]), liveAll(t, w, w.clients["sue"])} {
		if !has(events, backend.EventConversationUpserted, w.convA) || !has(events, backend.EventConversationUpserted, w.convB) {
			t.Error("the supervisor's feed lacks a conversation")
		}
		for _, e := range events {
			if strings.HasPrefix(e.Type, "flow.") || e.Type == backend.EventAccessChanged || e.Type == backend.EventSessionRevoked {
				t.Errorf("the supervisor's feed carries %s", e.Type)
			}
		}
	}
	var admin []backend.Event = syncAll(t, w.clients["alex"])
	if !has(admin, backend.EventFlowUpserted, "telegram/other") {
		t.Error("the admin's feed lacks the flow")
	}

	// Ana's desktop cache follows her feed.
	c := MustOpenCache(t, filepath.Join(t.TempDir(), "ana.db"))
	defer c.Close()
	removedIDs := make(chan []string, 10)
	_, stop := runSyncer(c, w.clients["ana"], func(s *cache.Syncer) {
		s.OnRemoved = func(ids []string) { removedIDs <- ids }
	})
	defer stop()
	inCache := func(id string) func() bool {
		return func() bool { _, err := c.Conversation(ctx, id); return err == nil }
	}
	waitFor(t, "ana's conversation in her cache", inCache(w.convA))
	if ok := inCache(w.convB)(); ok {
		t.Fatal("ben's conversation is in ana's cache")
	}

	// Ben transfers his conversation to ana: it arrives with its history.
	for _, id := range w.workers {
		w.e.Routing.SetWorkerActivity(ctx, id, backend.ActivityAvailable)
	}
	if err := w.clients["ben"].Do(ctx, "POST", "/api/tasks/"+w.taskB+"/transfer", map[string]string{"workerId": w.workers["ana"]}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ben's conversation offered into ana's cache", inCache(w.convB))
	d, err := c.Conversation(ctx, w.convB)
	if err != nil || len(d.Messages) != 2 || d.Messages[0].Text != "I want a refund" || d.Messages[1].Text != w.noteB || !d.Messages[1].Private {
		t.Fatalf("the transferred conversation came without its history: %+v %v", d, err)
	}
	if d.Contact.Name != "Olivia" || d.Task == nil || d.Task.ID != w.taskB {
		t.Fatalf("the transferred conversation came without its contact or task: %+v", d)
	}
	if hits, _ := c.Search(ctx, "rude", 10); len(hits) != 1 {
		t.Fatalf("search for ben's note in ana's cache: %+v", hits)
	}
	// She may not reply before she accepts; then she may, and she holds it.
	if _, err := w.clients["ana"].SendMessage(ctx, w.convB, "Hi Olivia", "a-1", false); backend.ErrorCode(err) != backend.EForbidden {
		t.Fatalf("reply to an offered conversation: %v", err)
	}
	w.accept(t, "ana", w.taskB)
	if _, err := w.clients["ana"].SendMessage(ctx, w.convB, "Hi Olivia, Ana here", "a-2", false); err != nil {
		t.Fatal(err)
	}
	if conv, _ := w.e.DB.FindConversationByID(ctx, w.convB); conv.AssigneeID != w.users["ana"].ID {
		t.Fatalf("assignee after the transfer = %q, want ana", conv.AssigneeID)
	}
	mine := func(id string) func() bool {
		return func() bool {
			list, _ := c.Conversations(ctx, cache.Filter{Scope: cache.ScopeMine, UserID: w.users["ana"].ID})
			for _, s := range list {
				if s.ID == id {
					return true
				}
			}
			return false
		}
	}
	waitFor(t, "the accepted conversation in ana's Mine", mine(w.convB))
	if _, err := w.clients["ben"].SendMessage(ctx, w.convB, "still mine?", "b-2", false); backend.ErrorCode(err) != backend.EForbidden {
		t.Fatalf("ben replying after transferring away: %v", err)
	}

	// Ana transfers it back: it leaves her cache, messages, note and search entries too.
	if err := w.clients["ana"].Do(ctx, "POST", "/api/tasks/"+w.taskB+"/transfer", map[string]string{"workerId": w.workers["ben"]}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ben's conversation gone from ana's cache", func() bool { return !inCache(w.convB)() })
	if hits, _ := c.Search(ctx, "rude", 10); len(hits) != 0 {
		t.Fatalf("ben's note is still found in ana's cache: %+v", hits)
	}
	if list, _ := c.Conversations(ctx, cache.Filter{}); len(list) != 1 || list[0].ID != w.convA {
		t.Fatalf("ana's cache lists %+v", list)
	}
	if ids := <-removedIDs; len(ids) != 1 || ids[0] != w.convB || len(removedIDs) != 0 {
		t.Fatalf("the syncer reported removed %v", ids)
	}
	if _, err := w.clients["ana"].SendMessage(ctx, w.convB, "one more", "a-3", false); backend.ErrorCode(err) != backend.EForbidden {
		t.Fatalf("reply after transferring away: %v", err)
	}

	// Completing her own task leaves ana the conversation: still hers to
	// read and follow up, still in Mine.
	for _, step := range []string{"wrapup", "complete"} {
		if err := w.clients["ana"].Do(ctx, "POST", "/api/tasks/"+w.taskA+"/"+step, map[string]string{"disposition": "Resolved"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.clients["ana"].SendMessage(ctx, w.convA, "Did it arrive?", "a-4", false); err != nil {
		t.Fatalf("a follow-up after completing: %v", err)
	}
	waitFor(t, "the follow-up in ana's cache", func() bool {
		d, err := c.Conversation(ctx, w.convA)
		return err == nil && d.Task == nil && d.Messages[len(d.Messages)-1].Text == "Did it arrive?"
	})
	if !mine(w.convA)() {
		t.Fatal("ana's completed conversation left Mine")
	}
}
