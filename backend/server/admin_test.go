package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/channels/telegram/telegramtest"
)

// adminClient calls an engine's API as one signed-in user.
type adminClient struct {
	t     *testing.T
	base  string
	token string
}

// call sends body (marshalled unless it is a string) and decodes the
// answer into out; it returns the status.
func (c *adminClient) call(method, path string, body, out any) int {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// must calls and fails the test unless the status is want.
func (c *adminClient) must(want int, method, path string, body, out any) {
	c.t.Helper()
	var raw json.RawMessage
	if got := c.call(method, path, body, &raw); got != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, got, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func openAdminEngine(t *testing.T, fake *telegramtest.Server) *server.Server {
	t.Helper()
	e, err := server.Open(context.Background(), server.Config{DataDir: t.TempDir(), PasswordCost: 4, SecretKey: secret.MustNew(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ChannelBaseURLs: map[string]string{"telegram": fake.URL}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestAdminConsoleAPI walks an admin through a new workspace over the API:
// the first admin, a Telegram channel tested against the fake Bot API, its
// health, routing, labels, canned responses, an invitation; then checks
// that an agent is refused every admin route, that routing changes reach
// the change feed, and that every change left one audit entry naming the
// admin.
func TestAdminConsoleAPI(t *testing.T) {
	fake := telegramtest.NewServer("123:secret-bot-token")
	defer fake.Close()
	e := openAdminEngine(t, fake)
	anon := &adminClient{t: t, base: e.URL()}

	var setup struct{ NeedsAdmin bool }
	anon.must(200, "GET", "/api/setup", nil, &setup)
	if !setup.NeedsAdmin {
		t.Fatal("a new workspace does not ask for its first admin")
	}
	var signed struct {
		Token string
		User  backend.User
	}
	var first backend.User
	anon.must(201, "POST", "/api/setup", map[string]string{"name": "Ada Admin", "email": "ada@example.com", "password": "password1"}, &first)
	anon.must(200, "POST", "/api/auth/signin", map[string]string{"email": "ada@example.com", "password": "password1"}, &signed)
	if first.Role != backend.RoleAdmin || signed.User.ID != first.ID || signed.Token == "" {
		t.Fatalf("setup answered %+v, sign-in %+v", first, signed)
	}
	anon.must(409, "POST", "/api/setup", map[string]string{"name": "Eve", "email": "eve@example.com", "password": "password1"}, nil)
	admin := &adminClient{t: t, base: e.URL(), token: signed.Token}

	// A Telegram bot through the form's routes: test unsaved, save, test saved.
	cfg := map[string]any{"botToken": "123:secret-bot-token", "mode": "webhook", "secretToken": "hook-secret"}
	var test backend.ChannelTest
	admin.must(200, "POST", "/api/channels/telegram/support/test", map[string]any{"config": cfg}, &test)
	if !test.OK || !strings.Contains(test.Detail, "@"+telegramtest.BotUsername) {
		t.Fatalf("test of a good token: %+v", test)
	}
	admin.must(200, "POST", "/api/channels/telegram/support/test", map[string]any{"config": map[string]any{"botToken": "123:wrong", "mode": "polling"}}, &test)
	if test.OK || !strings.Contains(test.Detail, "Unauthorized") {
		t.Fatalf("test of a wrong token: %+v", test)
	}
	admin.must(400, "PUT", "/api/channels/telegram/support", map[string]any{"config": map[string]any{"botToken": "x", "mode": "webhook"}}, nil)
	admin.must(200, "PUT", "/api/channels/telegram/support", map[string]any{"config": cfg}, nil)
	admin.must(200, "POST", "/api/channels/telegram/support/test", "", &test)
	if !test.OK {
		t.Fatalf("test of the saved channel: %+v", test)
	}
	var statuses []backend.ChannelStatus
	admin.must(200, "GET", "/api/channels/status", nil, &statuses)
	if len(statuses) != 1 || statuses[0].State != backend.ChannelRunning || statuses[0].WebhookURL != e.URL()+"/hooks/telegram/support" ||
		strings.Contains(string(statuses[0].Config), "secret-bot-token") || len(statuses[0].SecretsSet) != 2 {
		t.Fatalf("status %+v", statuses)
	}
	update, _ := fake.TextUpdate(4242, "Lucia", "hola")
	resp, err := http.DefaultClient.Do(telegramtest.WebhookRequest(e.URL()+"/hooks/telegram/support", "hook-secret", update))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("webhook: %v %v", resp, err)
	}
	admin.must(200, "GET", "/api/channels/status", nil, &statuses)
	if statuses[0].LastInboundAt.IsZero() {
		t.Fatalf("the inbound message does not show in the channel's health: %+v", statuses[0])
	}
	admin.must(200, "POST", "/api/channels/telegram/support/disable", nil, nil)
	admin.must(200, "GET", "/api/channels/status", nil, &statuses)
	if statuses[0].State != backend.ChannelDisabled {
		t.Fatalf("disabled channel shows %q", statuses[0].State)
	}
	resp, _ = http.DefaultClient.Do(telegramtest.WebhookRequest(e.URL()+"/hooks/telegram/support", "hook-secret", update))
	if resp.StatusCode != 404 {
		t.Fatalf("a disabled channel took a webhook: %d", resp.StatusCode)
	}
	admin.must(200, "POST", "/api/channels/telegram/support/enable", nil, nil)

	// Routing: a Spanish queue, a worker who speaks Spanish, a workflow.
	var preview struct {
		Valid   bool
		Error   string
		Workers []backend.Worker
	}
	admin.must(200, "POST", "/api/queues/preview", map[string]string{"expression": `"es" in worker.languages &&`}, &preview)
	if preview.Valid || preview.Error == "" {
		t.Fatalf("a broken expression previewed as %+v", preview)
	}
	var q backend.Queue
	admin.must(201, "POST", "/api/queues", map[string]any{"name": "Spanish", "targetWorkers": `"es" in worker.languages`}, &q)
	admin.must(400, "POST", "/api/queues", map[string]any{"name": "Broken", "targetWorkers": `worker.languages ==`}, nil)
	admin.must(409, "POST", "/api/queues", map[string]any{"name": "spanish"}, nil)
	admin.must(404, "PUT", "/api/queues/q_nope", map[string]any{"name": "Nope"}, nil)
	var wk backend.Worker
	admin.must(201, "POST", "/api/workers", map[string]any{"name": "Lola", "attributes": map[string]any{"languages": []string{"ES", "en"}, "skills": []string{"billing"}, "vip": true}, "capacity": map[string]int{"chat": 2}}, &wk)
	admin.must(400, "POST", "/api/workers", map[string]any{"name": "Bad", "attributes": map[string]any{"languages": "es"}}, nil)
	admin.must(200, "POST", "/api/queues/preview", map[string]string{"expression": `"es" in worker.languages`}, &preview)
	if !preview.Valid || len(preview.Workers) != 1 || preview.Workers[0].ID != wk.ID {
		t.Fatalf("preview of the Spanish queue: %+v", preview)
	}
	admin.must(200, "PUT", "/api/queues/"+q.ID, map[string]any{"name": "Spanish", "targetWorkers": `"es" in worker.languages`, "slaSeconds": 30}, nil)
	var wf backend.Workflow
	admin.must(201, "POST", "/api/workflows", map[string]any{"name": "Languages", "filters": []map[string]any{{"name": "Spanish", "expression": `task.language == "es"`,
		"targets": []map[string]any{{"queueId": q.ID, "timeoutSeconds": 60}}}}, "default": []map[string]any{{"queueId": "q_support"}}}, &wf)
	admin.must(409, "DELETE", "/api/queues/"+q.ID, nil, nil) // the workflow targets it
	admin.must(200, "PUT", "/api/workflows/"+wf.ID, map[string]any{"name": "Languages", "default": []map[string]any{{"queueId": "q_support"}}}, nil)
	var imported struct {
		Workflow backend.Workflow
		Notes    []string
	}
	admin.must(201, "POST", "/api/workflows/import", map[string]any{"name": "From Flex",
		"configuration": `{"task_routing":{"filters":[{"filter_friendly_name":"VIP","expression":"vip == true","targets":[{"queue":"WQ1","timeout":30}]}],"default_filter":{"queue":"WQ2"}}}`,
		"queues":        map[string]string{"WQ1": q.ID, "WQ2": "q_support"}}, &imported)
	if len(imported.Workflow.Filters) != 1 || imported.Workflow.Filters[0].Expression != "task.vip == true" {
		t.Fatalf("imported %+v", imported)
	}
	admin.must(204, "DELETE", "/api/workflows/"+imported.Workflow.ID, nil, nil)
	admin.must(204, "DELETE", "/api/workflows/"+wf.ID, nil, nil)
	admin.must(204, "DELETE", "/api/queues/"+q.ID, nil, nil)
	admin.must(204, "DELETE", "/api/workers/"+wk.ID, nil, nil)

	// Labels, canned responses, an invitation.
	var label backend.Label
	admin.must(201, "POST", "/api/labels", map[string]string{"name": "Billing", "color": "#2563eb"}, &label)
	admin.must(400, "POST", "/api/labels", map[string]string{"name": "Red", "color": "red"}, nil)
	admin.must(200, "PUT", "/api/labels/"+label.ID, map[string]string{"name": "Billing", "color": "#dc2626"}, nil)
	admin.must(200, "PUT", "/api/canned/cr_hello", map[string]string{"shortcut": "hello", "text": "Hello {{contact.name}}!"}, nil)
	admin.must(204, "DELETE", "/api/canned/cr_hello", nil, nil)
	var inv struct {
		Invite backend.Invite
		Link   string
	}
	admin.must(201, "POST", "/api/invites", map[string]string{"email": "ana@example.com", "name": "Ana", "role": "agent"}, &inv)
	form := url.Values{"name": {"Ana Agent"}, "password": {"password1"}, "confirm": {"password1"}}
	resp, err = http.PostForm(inv.Link, form)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("accepting the invitation page: %v %v", resp, err)
	}
	resp, _ = http.PostForm(inv.Link, form)
	if resp.StatusCode != 404 {
		t.Fatalf("an invitation link worked twice: %d", resp.StatusCode)
	}
	agent := &adminClient{t: t, base: e.URL()}
	agent.must(200, "POST", "/api/auth/signin", map[string]string{"email": "ana@example.com", "password": "password1"}, &signed)
	agent.token = signed.Token
	if _, err := e.Routing.WorkerByUserID(context.Background(), signed.User.ID); err != nil {
		t.Fatalf("the invited agent cannot take tasks: %v", err)
	}
	// Labels on a conversation: the admin may, an agent without its task may not; removing
	// the label takes it off the conversation.
	var convs []backend.Conversation
	admin.must(200, "GET", "/api/conversations", nil, &convs)
	if len(convs) != 1 {
		t.Fatalf("conversations %+v", convs)
	}
	var labelled backend.Conversation
	admin.must(200, "PUT", "/api/conversations/"+convs[0].ID+"/labels", map[string]any{"labels": []string{label.ID}}, &labelled)
	if fmt.Sprint(labelled.Labels) != fmt.Sprint([]string{label.ID}) {
		t.Fatalf("labelled %+v", labelled)
	}
	admin.must(400, "PUT", "/api/conversations/"+convs[0].ID+"/labels", map[string]any{"labels": []string{"lb_nope"}}, nil)
	agent.must(403, "PUT", "/api/conversations/"+convs[0].ID+"/labels", map[string]any{"labels": []string{}}, nil)
	admin.must(204, "DELETE", "/api/labels/"+label.ID, nil, nil)
	admin.must(200, "GET", "/api/conversations", nil, &convs)
	if len(convs[0].Labels) != 0 {
		t.Fatalf("a removed label stays on %+v", convs[0])
	}

	// A Studio export maps onto a flow with the report of what it could not map.
	export, err := os.ReadFile(filepath.Join("..", "flow", "testdata", "studio", "flex_messaging.json"))
	if err != nil {
		t.Fatal(err)
	}
	var imported2 struct {
		Flow   backend.Flow
		Report struct{ Variables []struct{ From, To string } }
	}
	admin.must(200, "POST", "/api/flows/import", string(export), &imported2)
	unmapped := 0
	for _, v := range imported2.Report.Variables {
		if v.To == "" {
			unmapped++
		}
	}
	if len(imported2.Flow.Widgets) == 0 || len(imported2.Report.Variables) != 4 || unmapped != 1 {
		t.Fatalf("import answered %+v", imported2)
	}
	admin.must(400, "POST", "/api/flows/import", `{"states": "nope"}`, nil)

	// An agent is refused every admin route.
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/connectors"}, {"GET", "/api/channels/status"}, {"POST", "/api/channels/telegram/support/test"},
		{"POST", "/api/channels/telegram/support/disable"}, {"DELETE", "/api/channels/telegram/support"},
		{"POST", "/api/queues"}, {"POST", "/api/queues/preview"}, {"POST", "/api/workers"}, {"POST", "/api/workflows"},
		{"GET", "/api/workflows"}, {"POST", "/api/workflows/import"}, {"POST", "/api/labels"}, {"DELETE", "/api/canned/x"},
		{"GET", "/api/invites"}, {"POST", "/api/invites"}, {"GET", "/api/audit"}, {"POST", "/api/flows/import"},
	} {
		if st := agent.call(r.method, r.path, "{}", nil); st != 403 {
			t.Errorf("agent %s %s: %d, want 403", r.method, r.path, st)
		}
	}

	// Routing changes are on the change feed.
	var feed struct{ Events []backend.Event }
	admin.must(200, "GET", "/api/sync?since=0&limit=1000", nil, &feed)
	seen := map[string]bool{}
	for _, ev := range feed.Events {
		seen[ev.Type+" "+ev.EntityID] = true
	}
	for _, want := range []string{"queue.upserted " + q.ID, "queue.deleted " + q.ID, "workflow.upserted " + wf.ID, "workflow.deleted " + wf.ID,
		"worker.upserted " + wk.ID, "worker.deleted " + wk.ID, "label.upserted " + label.ID, "label.deleted " + label.ID, "canned.deleted cr_hello"} {
		if !seen[want] {
			t.Errorf("no %s event on the feed", want)
		}
	}

	// Every change above left one audit entry, newest first.
	var entries []backend.AuditEntry
	admin.must(200, "GET", "/api/audit?limit=500", nil, &entries)
	var got []string
	for i := len(entries) - 1; i >= 0; i-- {
		got = append(got, entries[i].Action)
		if entries[i].Action != "invite.accept" && entries[i].UserName != "Ada Admin" {
			t.Errorf("entry %s names %q, not the admin", entries[i].Action, entries[i].UserName)
		}
		if strings.Contains(string(entries[i].Details), "secret-bot-token") || strings.Contains(string(entries[i].Details), "hook-secret") {
			t.Errorf("entry %s shows a secret: %s", entries[i].Action, entries[i].Details)
		}
	}
	want := []string{"setup.admin", "channel.save", "channel.disable", "channel.enable",
		"queue.create", "worker.create", "queue.update", "workflow.create", "workflow.update", "workflow.import",
		"workflow.delete", "workflow.delete", "queue.delete", "worker.delete",
		"label.create", "label.update", "canned.save", "canned.delete", "invite.create", "invite.accept", "label.delete"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audit log:\n got %v\nwant %v", got, want)
	}
	var page []backend.AuditEntry
	admin.must(200, "GET", fmt.Sprintf("/api/audit?limit=2&before=%d", entries[1].Seq), nil, &page)
	if len(page) != 2 || page[0].Seq != entries[2].Seq {
		t.Fatalf("audit page before %d: %+v", entries[1].Seq, page)
	}
	admin.must(204, "DELETE", "/api/channels/telegram/support", nil, nil)
	admin.must(200, "GET", "/api/audit?limit=1", nil, &page)
	if page[0].Action != "channel.remove" || page[0].EntityID != "telegram/support" {
		t.Fatalf("removing the channel left %+v", page)
	}
}
