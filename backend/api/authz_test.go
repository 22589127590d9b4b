package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"switchboard/backend"
	"switchboard/backend/flow"
	"switchboard/backend/secret"
	"switchboard/backend/server"
)

// The callers every route is tried as.
const (
	asNobody = iota // no token
	asForged        // a token the engine never issued
	asOwner         // ana: the conversation, task and offer are hers
	asOther         // ben: another agent
	asSupervisor
	asAdmin
)

var callerNames = []string{"no token", "bad token", "owner agent", "other agent", "supervisor", "admin"}

// authzRow is one route with a request that exercises it and the status
// each caller gets. Placeholders in path and body: $conv, $contact,
// $contact2, $task, $offer, $user, $n (a number unique to the call).
type authzRow struct {
	pattern, path, body string
	want                [6]int
}

// authzTable is every route of the API with who may call it. A route
// registered without a row here fails TestAuthorization_EveryRoute; adding
// a route means adding its line.
var authzTable = []authzRow{
	{"/", "/api/nothing-here", "", [6]int{404, 404, 404, 404, 404, 404}},
	{"GET /healthz", "/healthz", "", [6]int{200, 200, 200, 200, 200, 200}},
	// The test's callers are on loopback: without a token a local scraper
	// is let in; with one, only an admin (a forwarded request is tried in
	// the server package's metrics test).
	{"GET /metrics", "/metrics", "", [6]int{200, 401, 403, 403, 403, 200}},
	{"POST /api/auth/signin", "/api/auth/signin", `{"email":"ana@example.com","password":"password1"}`, [6]int{200, 200, 200, 200, 200, 200}},
	{"POST /api/auth/signout", "/api/auth/signout", "", [6]int{401, 401, 204, 204, 204, 204}},
	{"GET /api/me", "/api/me", "", [6]int{401, 401, 200, 200, 200, 200}},
	{"POST /api/me/password", "/api/me/password", `{"current":"password1","new":"password1"}`, [6]int{401, 401, 204, 204, 204, 204}},
	{"GET /api/sync", "/api/sync", "", [6]int{401, 401, 200, 200, 200, 200}},
	{"GET /api/sync/snapshot", "/api/sync/snapshot", "", [6]int{401, 401, 200, 200, 200, 200}},
	// A plain GET is refused by the upgrader (400) once signed in.
	{"GET /api/ws", "/api/ws", "", [6]int{401, 401, 400, 400, 400, 400}},
	{"GET /api/conversations", "/api/conversations", "", [6]int{401, 401, 200, 200, 200, 200}},
	{"GET /api/conversations/{id}", "/api/conversations/$conv", "", [6]int{401, 401, 200, 403, 200, 200}},
	{"GET /api/conversations/{id}/messages", "/api/conversations/$conv/messages", "", [6]int{401, 401, 200, 403, 200, 200}},
	{"POST /api/conversations/{id}/messages", "/api/conversations/$conv/messages", `{"text":"On it","clientId":"authz-$n"}`, [6]int{401, 401, 201, 403, 201, 201}},
	{"POST /api/conversations/{id}/status", "/api/conversations/$conv/status", `{"status":"snoozed"}`, [6]int{401, 401, 200, 403, 200, 200}},
	// The agent's typing signal is work on the conversation.
	{"POST /api/conversations/{id}/typing", "/api/conversations/$conv/typing", "", [6]int{401, 401, 204, 403, 204, 204}},
	{"GET /api/contacts/{id}", "/api/contacts/$contact", "", [6]int{401, 401, 200, 403, 200, 200}},
	{"POST /api/contacts/merge", "/api/contacts/merge", `{"into":"$contact","from":"$contact2"}`, [6]int{401, 401, 403, 403, 403, 200}},
	{"GET /api/canned", "/api/canned", "", [6]int{401, 401, 200, 200, 200, 200}},
	{"PUT /api/canned/{id}", "/api/canned/cr_$n", `{"shortcut":"s$n","title":"T","text":"Hello"}`, [6]int{401, 401, 403, 403, 403, 200}},
	{"GET /api/users", "/api/users", "", [6]int{401, 401, 403, 403, 200, 200}},
	{"POST /api/users", "/api/users", `{"name":"New","email":"new$n@example.com","role":"agent","password":"password1"}`, [6]int{401, 401, 403, 403, 403, 201}},
	{"POST /api/users/{id}/disable", "/api/users/$user/disable", "", [6]int{401, 401, 403, 403, 403, 200}},
	{"POST /api/users/{id}/enable", "/api/users/$user/enable", "", [6]int{401, 401, 403, 403, 403, 200}},
	{"POST /api/users/{id}/password", "/api/users/$user/password", `{"password":"another password"}`, [6]int{401, 401, 403, 403, 403, 204}},
	{"POST /api/users/{id}/signout", "/api/users/$user/signout", "", [6]int{401, 401, 403, 403, 403, 200}},
	// Supervisors and admins here have no worker of their own (403).
	{"GET /api/me/worker", "/api/me/worker", "", [6]int{401, 401, 200, 200, 403, 403}},
	{"POST /api/me/activity", "/api/me/activity", `{"activity":"Break"}`, [6]int{401, 401, 200, 200, 403, 403}},
	{"GET /api/me/reservations", "/api/me/reservations", "", [6]int{401, 401, 200, 200, 403, 403}},
	{"POST /api/reservations/{id}/accept", "/api/reservations/$offer/accept", "", [6]int{401, 401, 200, 403, 200, 200}},
	{"POST /api/reservations/{id}/reject", "/api/reservations/$offer/reject", "", [6]int{401, 401, 200, 403, 200, 200}},
	{"POST /api/tasks/{id}/wrapup", "/api/tasks/$task/wrapup", `{"disposition":"Resolved"}`, [6]int{401, 401, 200, 403, 200, 200}},
	{"POST /api/tasks/{id}/complete", "/api/tasks/$task/complete", `{"disposition":"Resolved"}`, [6]int{401, 401, 200, 403, 200, 200}},
	{"POST /api/tasks/{id}/transfer", "/api/tasks/$task/transfer", `{"queueId":"q_support"}`, [6]int{401, 401, 200, 403, 200, 200}},
	// Taking needs a worker of one's own serving the task's queue (ana's
	// skill; supervisors and admins here have none); assigning is for
	// supervisors and admins.
	{"POST /api/tasks/{id}/take", "/api/tasks/$waiting/take", "", [6]int{401, 401, 200, 403, 403, 403}},
	{"POST /api/tasks/{id}/assign", "/api/tasks/$waiting/assign", `{"workerId":"$anaworker"}`, [6]int{401, 401, 403, 403, 200, 200}},
	{"GET /api/workers", "/api/workers", "", [6]int{401, 401, 200, 200, 200, 200}},
	{"GET /api/queues", "/api/queues", "", [6]int{401, 401, 200, 200, 200, 200}},
	{"GET /api/activities", "/api/activities", "", [6]int{401, 401, 200, 200, 200, 200}},
	{"GET /api/queues/{id}/stats", "/api/queues/q_support/stats", "", [6]int{401, 401, 403, 403, 200, 200}},
	{"GET /api/channels", "/api/channels", "", [6]int{401, 401, 403, 403, 403, 200}},
	{"PUT /api/channels/{connector}/{instance}", "/api/channels/webchat/w$n", `{"config":{"allowedOrigins":["*"]}}`, [6]int{401, 401, 403, 403, 403, 200}},
	{"GET /api/flows/{connector}/{instance}", "/api/flows/webchat/site", "", [6]int{401, 401, 403, 403, 403, 200}},
	{"PUT /api/flows/{connector}/{instance}", "/api/flows/webchat/site", "$flow", [6]int{401, 401, 403, 403, 403, 200}},
	{"POST /api/flows/test", "/api/flows/test", `{"flow":$flow,"messages":["hi"]}`, [6]int{401, 401, 403, 403, 403, 200}},
	// Mounted handlers authenticate their own callers (signatures,
	// visitor tokens); the API's token changes nothing there.
	{"/hooks/", "/hooks/sms.twilio/nowhere", "", [6]int{404, 404, 404, 404, 404, 404}},
	{"/widget/", "/widget/nowhere/widget.js", "", [6]int{404, 404, 404, 404, 404, 404}},
	// Public links of files the engine sends (Twilio, LINE and Instagram
	// fetch them): the signed link is the capability.
	{"/shared/", "/shared/nothing.1.x/file.jpg", "", [6]int{404, 404, 404, 404, 404, 404}},
	// Kept files: whoever may read their conversation; to others they do
	// not exist. An agent uploads a file for a reply where they may reply.
	{"GET /media/{id}", "/media/$media", "", [6]int{401, 401, 200, 404, 200, 200}},
	{"POST /api/conversations/{id}/files", "/api/conversations/$conv/files", "multipart:photo.png", [6]int{401, 401, 201, 403, 201, 201}},
	// The agent's typing signal to a web chat visitor is work on the conversation.
	{"POST /widget/{instance}/typing/{conversation}", "/widget/site/typing/$conv", "", [6]int{401, 401, 204, 403, 204, 204}},

	// The admin's console. A connection test that cannot connect is still
	// an answer (200, ok false).
	{"GET /api/connectors", "/api/connectors", "", [6]int{401, 401, 403, 403, 403, 200}},
	{"GET /api/channels/status", "/api/channels/status", "", [6]int{401, 401, 403, 403, 403, 200}},
	{"POST /api/channels/{connector}/{instance}/test", "/api/channels/email/e$n/test", `{"config":{"address":"s@example.com","imapAddr":"127.0.0.1:1","imapSecurity":"none","imapUsername":"u","imapPassword":"p","smtpAddr":"127.0.0.1:1","smtpSecurity":"none"}}`, [6]int{401, 401, 403, 403, 403, 200}},
	{"POST /api/channels/{connector}/{instance}/enable", "/api/channels/webchat/$chan/enable", "", [6]int{401, 401, 403, 403, 403, 200}},
	{"POST /api/channels/{connector}/{instance}/disable", "/api/channels/webchat/$chan/disable", "", [6]int{401, 401, 403, 403, 403, 200}},
	{"DELETE /api/channels/{connector}/{instance}", "/api/channels/webchat/$chan", "", [6]int{401, 401, 403, 403, 403, 204}},
	{"POST /api/flows/import", "/api/flows/import", `{"description":"Imported","initial_state":"Trigger","flags":{},"states":[{"name":"Trigger","type":"trigger","properties":{},"transitions":[]}]}`, [6]int{401, 401, 403, 403, 403, 200}},
	{"GET /api/audit", "/api/audit", "", [6]int{401, 401, 403, 403, 403, 200}},
	{"GET /api/labels", "/api/labels", "", [6]int{401, 401, 200, 200, 200, 200}},
	{"POST /api/labels", "/api/labels", `{"name":"Label $n"}`, [6]int{401, 401, 403, 403, 403, 201}},
	{"PUT /api/labels/{id}", "/api/labels/$label", `{"name":"Label $n"}`, [6]int{401, 401, 403, 403, 403, 200}},
	{"DELETE /api/labels/{id}", "/api/labels/$label", "", [6]int{401, 401, 403, 403, 403, 204}},
	{"PUT /api/conversations/{id}/labels", "/api/conversations/$conv/labels", `{"labels":["$label"]}`, [6]int{401, 401, 200, 403, 200, 200}},
	{"DELETE /api/canned/{id}", "/api/canned/$canned", "", [6]int{401, 401, 403, 403, 403, 204}},
	{"GET /api/invites", "/api/invites", "", [6]int{401, 401, 403, 403, 403, 200}},
	{"POST /api/invites", "/api/invites", `{"email":"invited$n@example.com","name":"Invited","role":"agent"}`, [6]int{401, 401, 403, 403, 403, 201}},
	{"DELETE /api/invites/{id}", "/api/invites/$invite", "", [6]int{401, 401, 403, 403, 403, 204}},
	// An invitation's one-time token admits whoever holds it.
	{"GET /api/invitations/{token}", "/api/invitations/$invtoken", "", [6]int{200, 200, 200, 200, 200, 200}},
	{"POST /api/invitations/{token}", "/api/invitations/$invtoken", `{"name":"Invited","password":"password1"}`, [6]int{201, 201, 201, 201, 201, 201}},
	{"GET /invite/{token}", "/invite/$invtoken", "", [6]int{200, 200, 200, 200, 200, 200}},
	{"POST /invite/{token}", "/invite/$invtoken", "form:name=Invited&password=password1&confirm=password1", [6]int{200, 200, 200, 200, 200, 200}},
	// The first-run setup: open only while the workspace has no user.
	{"GET /api/setup", "/api/setup", "", [6]int{200, 200, 200, 200, 200, 200}},
	{"POST /api/setup", "/api/setup", `{"name":"First","email":"first$n@example.com","password":"password1"}`, [6]int{409, 409, 409, 409, 409, 409}},
	{"POST /api/queues", "/api/queues", `{"name":"Queue $n","targetWorkers":"true"}`, [6]int{401, 401, 403, 403, 403, 201}},
	{"PUT /api/queues/{id}", "/api/queues/$queue", `{"name":"Queue $n","targetWorkers":"true"}`, [6]int{401, 401, 403, 403, 403, 200}},
	{"DELETE /api/queues/{id}", "/api/queues/$queue", "", [6]int{401, 401, 403, 403, 403, 204}},
	{"POST /api/queues/preview", "/api/queues/preview", `{"expression":"true"}`, [6]int{401, 401, 403, 403, 403, 200}},
	{"GET /api/workflows", "/api/workflows", "", [6]int{401, 401, 403, 403, 200, 200}},
	{"POST /api/workflows", "/api/workflows", `{"name":"Workflow $n","default":[{"queueId":"q_support"}]}`, [6]int{401, 401, 403, 403, 403, 201}},
	{"PUT /api/workflows/{id}", "/api/workflows/$workflow", `{"name":"Workflow $n","default":[{"queueId":"q_support"}]}`, [6]int{401, 401, 403, 403, 403, 200}},
	{"DELETE /api/workflows/{id}", "/api/workflows/$workflow", "", [6]int{401, 401, 403, 403, 403, 204}},
	{"POST /api/workflows/import", "/api/workflows/import", `{"name":"Imported $n","configuration":{"task_routing":{"filters":[],"default_filter":{"queue":"WQ1"}}},"queues":{"WQ1":"q_support"}}`, [6]int{401, 401, 403, 403, 403, 201}},
	{"POST /api/workers", "/api/workers", `{"name":"Worker $n","attributes":{},"capacity":{}}`, [6]int{401, 401, 403, 403, 403, 201}},
	{"PUT /api/workers/{id}", "/api/workers/$worker", `{"name":"Worker $n","attributes":{},"capacity":{}}`, [6]int{401, 401, 403, 403, 403, 200}},
	{"DELETE /api/workers/{id}", "/api/workers/$worker", "", [6]int{401, 401, 403, 403, 403, 204}},

	// Supervisors: the live view, setting an agent's activity, staffing
	// and reports name every agent's work; agents are refused.
	{"GET /api/supervisor/live", "/api/supervisor/live", "", [6]int{401, 401, 403, 403, 200, 200}},
	{"GET /api/supervisor/history", "/api/supervisor/history", "", [6]int{401, 401, 403, 403, 200, 200}},
	{"POST /api/workers/{id}/activity", "/api/workers/$worker/activity", `{"activity":"Break"}`, [6]int{401, 401, 403, 403, 200, 200}},
	{"GET /api/supervisor/staffing", "/api/supervisor/staffing?window=30&target=80", "", [6]int{401, 401, 403, 403, 200, 200}},
	{"GET /api/reports", "/api/reports?from=2026-01-01&to=2026-01-31&by=queue", "", [6]int{401, 401, 403, 403, 200, 200}},
	{"GET /api/reports/csv", "/api/reports/csv?from=2026-01-01&to=2026-01-07&period=week", "", [6]int{401, 401, 403, 403, 200, 200}},

	// Calls: the agent who had the call (ana here), whoever may read its
	// conversation, supervisors and admins; to anyone else it does not exist.
	{"GET /api/calls/{id}", "/api/calls/$call", "", [6]int{401, 401, 200, 404, 200, 200}},
	{"GET /api/calls/{id}/recording", "/api/calls/$call/recording", "", [6]int{401, 401, 200, 404, 200, 200}},
	{"GET /api/calls/{id}/voicemail", "/api/calls/$call/voicemail", "", [6]int{401, 401, 200, 404, 200, 200}},
	// Joining a call is the supervisors': the fixture's call has ended, so
	// they reach the engine and learn it is not live.
	{"POST /api/calls/{id}/monitor", "/api/calls/$call/monitor", `{"mode":"listen"}`, [6]int{401, 401, 403, 403, 404, 404}},
	{"DELETE /api/calls/{id}/monitor", "/api/calls/$call/monitor", "", [6]int{401, 401, 403, 403, 404, 404}},
	{"GET /api/voice/trunks", "/api/voice/trunks", "", [6]int{401, 401, 403, 403, 403, 200}},
	{"PUT /api/voice/trunks/{name}", "/api/voice/trunks/carrier$n", `{"config":{"allow":["127.0.0.1"]},"enabled":false}`, [6]int{401, 401, 403, 403, 403, 200}},
	{"DELETE /api/voice/trunks/{name}", "/api/voice/trunks/$trunk", "", [6]int{401, 401, 403, 403, 403, 204}},
}

const authzPassword = "password1"

// authzEngine is a whole engine with four users and the fixtures.
type authzEngine struct {
	*server.Server
	users map[int]*backend.User
	ana   string // ana's worker
	n     atomic.Int64
	flow  string
}

func startAuthzEngine(t *testing.T) *authzEngine {
	t.Helper()
	ctx := context.Background()
	srv, err := server.Open(ctx, server.Config{DataDir: t.TempDir(), PasswordCost: 4, SecretKey: secret.MustNew(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e := &authzEngine{Server: srv, users: map[int]*backend.User{}}
	for who, u := range map[int]backend.User{
		asOwner:      {Name: "Ana", Email: "ana@example.com", Role: backend.RoleAgent},
		asOther:      {Name: "Ben", Email: "ben@example.com", Role: backend.RoleAgent},
		asSupervisor: {Name: "Sue", Email: "sue@example.com", Role: backend.RoleSupervisor},
		asAdmin:      {Name: "Alex", Email: "admin@example.com", Role: backend.RoleAdmin},
	} {
		if err := srv.DB.CreateUser(ctx, &u, authzPassword); err != nil {
			t.Fatal(err)
		}
		e.users[who] = &u
	}
	w, err := srv.Routing.UpsertWorker(ctx, &backend.Worker{UserID: e.users[asOwner].ID, Name: "Ana", Capacity: map[string]int{backend.ChannelChat: 10000},
		Attributes: map[string]any{"skills": []any{"takes"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.ana = w.ID
	if _, err := srv.Routing.UpsertWorker(ctx, &backend.Worker{UserID: e.users[asOther].ID, Name: "Ben"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(flow.DefaultFlow(flow.DefaultFlowOptions{}))
	e.flow = string(raw)
	return e
}

// authzFixture is what one request acts on, made on first use: a web chat
// conversation whose task ana holds and another conversation offered to
// her ($conv, $contact, $task, $contact2, $offer), a spare user ($user),
// what the admin's routes change (a web chat instance, a label, a canned
// response, an invitation with its one-time token, a queue, a workflow, a
// worker), a task waiting in a queue only ana serves ($waiting, with her
// worker $anaworker), an ended call of ana's with its recording and
// voicemail, a SIP trunk and a file kept for ana's conversation ($media).
type authzFixture struct {
	e    *authzEngine
	t    *testing.T
	n    int64
	vals map[string]string
}

func (e *authzEngine) fixture(t *testing.T) *authzFixture {
	return &authzFixture{e: e, t: t, n: e.n.Add(1), vals: map[string]string{}}
}

// fixtureParts makes the values of each group of placeholders.
var fixtureParts = map[string]func(f *authzFixture){
	"$conv": (*authzFixture).work, "$contact": (*authzFixture).work, "$task": (*authzFixture).work,
	"$contact2": (*authzFixture).work, "$offer": (*authzFixture).work,
	"$user": (*authzFixture).spareUser, "$chan": (*authzFixture).channel, "$label": (*authzFixture).label,
	"$canned": (*authzFixture).canned, "$invite": (*authzFixture).invite, "$invtoken": (*authzFixture).invite,
	"$queue": (*authzFixture).routing, "$workflow": (*authzFixture).routing, "$worker": (*authzFixture).routing,
	"$call": (*authzFixture).call, "$trunk": (*authzFixture).trunk, "$media": (*authzFixture).media,
	"$waiting": (*authzFixture).waiting, "$anaworker": (*authzFixture).waiting,
}

// value returns a placeholder's value, making its part of the fixture first.
func (f *authzFixture) value(name string) string {
	if v, ok := f.vals[name]; ok {
		return v
	}
	fixtureParts[name](f)
	return f.vals[name]
}

// work makes ana's held conversation and her pending offer.
func (f *authzFixture) work() {
	t, e, n := f.t, f.e, f.n
	t.Helper()
	ctx := context.Background()
	r := e.Routing
	// Ana takes what comes; ben is away, so the offers are hers.
	if _, err := r.SetWorkerActivity(ctx, e.ana, backend.ActivityAvailable); err != nil {
		t.Fatal(err)
	}
	ben, _ := r.WorkerByUserID(ctx, e.users[asOther].ID)
	if _, err := r.SetWorkerActivity(ctx, ben.ID, backend.ActivityOffline); err != nil {
		t.Fatal(err)
	}
	var tasks [2]string
	for i, ch := range []string{"webchat", "telegram"} {
		m, _, err := e.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: ch, Instance: "site", ExternalUserID: fmt.Sprintf("visitor-%d-%d", n, i),
			ExternalID: fmt.Sprintf("authz-%d-%d", n, i), Text: "I need help"})
		if err != nil {
			t.Fatal(err)
		}
		task, err := r.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelChat, QueueID: "q_support", ConversationID: m.ConversationID})
		if err != nil {
			t.Fatal(err)
		}
		tasks[i] = task.ID
		if i == 0 {
			f.vals["$conv"], f.vals["$contact"], f.vals["$task"] = m.ConversationID, m.ContactID, task.ID
		} else {
			f.vals["$contact2"] = m.ContactID
		}
	}
	offers, err := r.Reservations(ctx, e.ana)
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range offers {
		switch {
		case res.TaskID == tasks[0] && res.State == backend.ReservationPending:
			if _, err := r.AcceptReservation(ctx, res.ID); err != nil {
				t.Fatal(err)
			}
		case res.TaskID == tasks[1]:
			f.vals["$offer"] = res.ID
		}
	}
	if f.vals["$offer"] == "" {
		t.Fatal("the second task was not offered to ana")
	}
}

// waiting makes a task waiting in a queue only ana serves ($waiting) and
// names her worker ($anaworker).
func (f *authzFixture) waiting() {
	ctx, r, n := context.Background(), f.e.Routing, f.n
	q, err := r.UpsertQueue(ctx, &backend.Queue{ID: fmt.Sprintf("q_take%d", n), Name: fmt.Sprintf("Take %d", n), TargetWorkers: `"takes" in worker.skills`})
	if err != nil {
		f.t.Fatal(err)
	}
	m, _, err := f.e.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: "webchat", Instance: "site", ExternalUserID: fmt.Sprintf("waiting-%d", n),
		ExternalID: fmt.Sprintf("authz-waiting-%d", n), Text: "Anyone there?"})
	if err != nil {
		f.t.Fatal(err)
	}
	task, err := r.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelChat, QueueID: q.ID, ConversationID: m.ConversationID})
	if err != nil {
		f.t.Fatal(err)
	}
	f.vals["$waiting"], f.vals["$anaworker"] = task.ID, f.e.ana
}

func (f *authzFixture) spareUser() {
	u := &backend.User{Name: "Spare", Email: fmt.Sprintf("spare%d@example.com", f.n), Role: backend.RoleAgent}
	if err := f.e.DB.CreateUser(context.Background(), u, authzPassword); err != nil {
		f.t.Fatal(err)
	}
	f.vals["$user"] = u.ID
}

func (f *authzFixture) channel() {
	name := fmt.Sprintf("wc%d", f.n)
	if err := f.e.Channels.PutInstance(context.Background(), &backend.ChannelInstance{Connector: "webchat", Instance: name,
		Config: json.RawMessage(`{"allowedOrigins":["*"]}`), Enabled: true}); err != nil {
		f.t.Fatal(err)
	}
	f.vals["$chan"] = name
}

func (f *authzFixture) label() {
	l := &backend.Label{Name: fmt.Sprintf("Fixture %d", f.n)}
	if err := f.e.DB.PutLabel(context.Background(), l); err != nil {
		f.t.Fatal(err)
	}
	f.vals["$label"] = l.ID
}

func (f *authzFixture) canned() {
	c := &backend.CannedResponse{ID: fmt.Sprintf("cr_fixture%d", f.n), Shortcut: fmt.Sprintf("fx%d", f.n), Title: "Fixture", Text: "Hello"}
	if err := f.e.DB.PutCannedResponse(context.Background(), c); err != nil {
		f.t.Fatal(err)
	}
	f.vals["$canned"] = c.ID
}

func (f *authzFixture) invite() {
	inv := &backend.Invite{Email: fmt.Sprintf("fixture%d@example.com", f.n), Name: "Fixture", Role: backend.RoleAgent, InvitedBy: f.e.users[asAdmin].ID}
	token, err := f.e.DB.CreateInvite(context.Background(), inv)
	if err != nil {
		f.t.Fatal(err)
	}
	f.vals["$invite"], f.vals["$invtoken"] = inv.ID, token
}

// routing makes a queue, a workflow and a worker.
func (f *authzFixture) routing() {
	ctx, r, n := context.Background(), f.e.Routing, f.n
	q, err := r.UpsertQueue(ctx, &backend.Queue{ID: fmt.Sprintf("q_fixture%d", n), Name: fmt.Sprintf("Fixture %d", n)})
	if err != nil {
		f.t.Fatal(err)
	}
	wf, err := r.UpsertWorkflow(ctx, &backend.Workflow{ID: fmt.Sprintf("wf_fixture%d", n), Name: fmt.Sprintf("Fixture %d", n),
		Default: []backend.WorkflowTarget{{QueueID: "q_support"}}})
	if err != nil {
		f.t.Fatal(err)
	}
	w, err := r.UpsertWorker(ctx, &backend.Worker{Name: fmt.Sprintf("Fixture %d", n), Attributes: map[string]any{}})
	if err != nil {
		f.t.Fatal(err)
	}
	f.vals["$queue"], f.vals["$workflow"], f.vals["$worker"] = q.ID, wf.ID, w.ID
}

// call makes an ended call of ana's with its recording and voicemail files.
func (f *authzFixture) call() {
	e, n := f.e, f.n
	c := &backend.Call{Channel: backend.CallChannelSIP, Instance: "carrier", Direction: "inbound", From: fmt.Sprintf("+1555010%04d", n),
		To: "+15550100", State: backend.CallEnded, UserID: e.users[asOwner].ID, UserName: "Ana",
		Recording: fmt.Sprintf("authz-%d-rec.wav", n), Voicemail: fmt.Sprintf("authz-%d-vm.wav", n)}
	if err := e.DB.OpenCall(context.Background(), c, backend.Identity{ExternalID: c.From}, "", backend.CallNote{Text: "Call ended"}); err != nil {
		f.t.Fatal(err)
	}
	for _, name := range []string{c.Recording, c.Voicemail} {
		if err := os.WriteFile(e.Voice.RecordingPath(name), []byte("RIFF"), 0o600); err != nil {
			f.t.Fatal(err)
		}
	}
	f.vals["$call"] = c.ID
}

// media keeps a file for ana's held conversation.
func (f *authzFixture) media() {
	if _, ok := f.vals["$conv"]; !ok {
		f.work()
	}
	file := &backend.MediaFile{ConversationID: f.vals["$conv"], Name: "receipt.pdf", Type: "application/pdf"}
	if err := f.e.DB.PutMedia(context.Background(), file, []byte("%PDF-1.4 receipt")); err != nil {
		f.t.Fatal(err)
	}
	f.vals["$media"] = file.ID
}

func (f *authzFixture) trunk() {
	name := fmt.Sprintf("fixture%d", f.n)
	if err := f.e.DB.PutTrunk(context.Background(), &backend.Trunk{Name: name, Config: json.RawMessage(`{"allow":["127.0.0.1"]}`)}); err != nil {
		f.t.Fatal(err)
	}
	f.vals["$trunk"] = name
}

func (e *authzEngine) signIn(t *testing.T, who int) string {
	t.Helper()
	switch who {
	case asNobody:
		return ""
	case asForged:
		return "forged-token-that-the-engine-never-issued"
	}
	token, _, err := e.DB.Authenticate(context.Background(), e.users[who].Email, authzPassword)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// placeholders lists the fixture's placeholders, longest first, so that
// one never replaces the start of another.
var placeholders = func() []string {
	var names []string
	for name := range fixtureParts {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		return len(names[i]) > len(names[j]) || len(names[i]) == len(names[j]) && names[i] < names[j]
	})
	return names
}()

// expand fills a row's placeholders from f ($n is a number unique to the
// call, $flow the default flow).
func (e *authzEngine) expand(s string, f *authzFixture) string {
	for _, name := range placeholders {
		if strings.Contains(s, name) {
			s = strings.ReplaceAll(s, name, f.value(name))
		}
	}
	return strings.NewReplacer("$n", fmt.Sprint(e.n.Add(1)), "$flow", e.flow).Replace(s)
}

// do sends one request; a body written "form:a=b&…" goes as an HTML form,
// "multipart:name" as a file upload of that name.
func (e *authzEngine) do(t *testing.T, token, method, path, body string) (int, []byte) {
	t.Helper()
	form, isForm := strings.CutPrefix(body, "form:")
	file, isFile := strings.CutPrefix(body, "multipart:")
	if !isForm && !isFile {
		return (&testEngine{URL: e.URL()}).DoRaw(t, token, method, path, body)
	}
	ctype := "application/x-www-form-urlencoded"
	if isFile {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		part, _ := w.CreateFormFile("file", file)
		part.Write([]byte("\x89PNG\r\n\x1a\n a picture"))
		w.Close()
		form, ctype = buf.String(), w.FormDataContentType()
	}
	req, err := http.NewRequest(method, e.URL()+path, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// endsSessions are the routes after which a caller signs in again.
var endsSessions = map[string]bool{"POST /api/auth/signout": true, "POST /api/me/password": true}

// TestAuthorization_EveryRoute calls every route the API registered as
// each kind of caller and checks the status against authzTable. A call
// that changes what it names gets a fresh fixture.
func TestAuthorization_EveryRoute(t *testing.T) {
	e := startAuthzEngine(t)
	rows := map[string]authzRow{}
	for _, row := range authzTable {
		if _, dup := rows[row.pattern]; dup {
			t.Fatalf("two rows for %s", row.pattern)
		}
		rows[row.pattern] = row
	}
	registered := map[string]bool{}
	for _, r := range e.API.Routes() {
		registered[r.Pattern] = true
		if _, ok := rows[r.Pattern]; !ok {
			t.Errorf("route %s (%s) has no row in the authorization table", r.Pattern, r.Access)
		}
	}
	for p := range rows {
		if !registered[p] {
			t.Errorf("the authorization table has a row for %s, which is not registered", p)
		}
	}
	shared := e.fixture(t)
	tokens := map[int]string{}
	for who := range callerNames {
		tokens[who] = e.signIn(t, who)
	}
	for _, row := range authzTable {
		method, _, found := strings.Cut(row.pattern, " ")
		if !found {
			method = "GET"
		}
		changes := method != "GET" && strings.ContainsAny(strings.NewReplacer("$n", "", "$flow", "").Replace(row.path+row.body), "$")
		t.Run(row.pattern, func(t *testing.T) {
			f := shared
			if changes {
				f = e.fixture(t)
			}
			for who, name := range callerNames {
				path, body := e.expand(row.path, f), e.expand(row.body, f)
				status, answer := e.do(t, tokens[who], method, path, body)
				if endsSessions[row.pattern] {
					tokens[who] = e.signIn(t, who)
				}
				if status != row.want[who] {
					t.Errorf("as %s: %s %s → %d, want %d (%s)", name, method, path, status, row.want[who], bytes.TrimSpace(answer))
				}
				if changes && status < 300 {
					f = e.fixture(t) // it changed what it names: the next caller gets its own
				}
			}
		})
	}
}
