package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend"
	"switchboard/backend/api"
	"switchboard/backend/postgres/pgtest"
	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/channels/twilio/twiliotest"
	"switchboard/channels/webchat"
)

// agentPassword is the password of the agents the multi-node tests make.
const agentPassword = "agent-password"

// setUpTeam makes a workspace in the store cfg names (its Store or
// DataDir, with its SecretKey): the agents (with their workers), an SMS
// number per instance on the fake Twilio and the echo flow that hands a
// conversation to an agent when a message asks for one.
func setUpTeam(t testing.TB, cfg server.Config, fake *twiliotest.Server, instances []string, agents []string) {
	t.Helper()
	ctx := context.Background()
	cfg.PasswordCost, cfg.Logger = 4, discard()
	store, err := server.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, email := range agents {
		if err := store.CreateUser(ctx, &backend.User{Name: email, Email: email, Role: backend.RoleAgent}, agentPassword); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	cfg.ChannelBaseURLs = map[string]string{"sms.twilio": fake.URL}
	e := openEngine(t, cfg)
	f, err := parseFlow(echoFlow)
	if err != nil {
		t.Fatal(err)
	}
	for n, name := range instances {
		cfg := fmt.Sprintf(`{"accountSid":%q,"authToken":%q,"from":"+1555000%04d"}`, accountSID, authToken, n)
		if err := e.Channels.PutInstance(ctx, &backend.ChannelInstance{Connector: "sms.twilio", Instance: name, Config: json.RawMessage(cfg), Enabled: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Flows.SetFlow(ctx, backend.FlowKey("sms.twilio", name), f); err != nil {
			t.Fatal(err)
		}
	}
	e.Close()
}

// sms posts a customer's signed SMS webhook to a node and reports whether
// it was acknowledged.
func sms(fake *twiliotest.Server, base, instance, number, from, text string) (int, error) {
	req := fake.WebhookRequest(crashPublic+"/hooks/sms.twilio/"+instance, fake.InboundParams(from, number, text))
	req.URL.Scheme, req.URL.Host, req.Host = "http", strings.TrimPrefix(base, "http://"), strings.TrimPrefix(base, "http://")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestPostgres_TwoNodesShareOneWorkspace runs two engines in this process
// on one PostgreSQL database: the first leads routing, the second hands
// it every routing call; a webhook taken by either reaches an agent
// signed in on the other; when the leader closes, the other takes over
// and keeps answering.
func TestPostgres_TwoNodesShareOneWorkspace(t *testing.T) {
	ctx := context.Background()
	url, key := pgtest.NewDatabase(t), secret.MustNew()
	fake := twiliotest.NewServer(accountSID, authToken)
	defer fake.Close()
	setUpTeam(t, server.Config{Store: url, SecretKey: key}, fake, []string{"main"}, []string{"ana@example.com"})
	cfg := server.Config{Store: url, SecretKey: key, PublicURL: crashPublic, ChannelBaseURLs: map[string]string{"sms.twilio": fake.URL}}
	a := openEngine(t, cfg)
	if _, err := a.Routing.Workers(ctx); err != nil { // answered once a node leads: a, the only one
		t.Fatal(err)
	}
	b := openEngine(t, cfg)
	if lead, _ := a.Cluster.Leading(); !lead {
		t.Fatal("the first node does not lead routing")
	}
	if lead, _ := b.Cluster.Leading(); lead {
		t.Fatal("both nodes lead routing")
	}

	// Ana works on b: her activity and offers go through the leader.
	ana, err := signInAgent(b.URL(), "ana@example.com", agentPassword)
	if err != nil {
		t.Fatal(err)
	}
	var worker backend.Worker
	body, err := ana.must("POST", "/api/me/activity", `{"activity":"Available"}`)
	if err != nil || json.Unmarshal(body, &worker) != nil || !worker.Available {
		t.Fatalf("activity on the follower: %s %v", body, err)
	}
	live, err := ana.follow(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer live.ws.Close()
	if st, err := sms(fake, a.URL(), "main", "+15550000000", "+15557770001", "agent please"); err != nil || st != http.StatusOK {
		t.Fatalf("webhook on the leader: %d %v", st, err)
	}
	var res *backend.Reservation
	for res == nil {
		events, err := live.read()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if r, ok := offer(e, worker.ID); ok {
				res = r
			}
		}
	}
	if _, err := ana.must("POST", "/api/reservations/"+res.ID+"/accept", ""); err != nil {
		t.Fatalf("accept on the follower: %v", err)
	}
	// The supervisors' live view on the follower is the leader's, with
	// Ana's accepted task in it.
	view, err := b.Routing.Live(ctx)
	if err != nil || len(view.Workers) != 1 || view.Workers[0].ID != worker.ID {
		t.Fatalf("live view on the follower: %+v %v", view, err)
	}
	held := 0
	for _, n := range view.Load[worker.ID] {
		held += n
	}
	if held != 1 {
		t.Fatalf("live view on the follower: Ana holds %v, want one task", view.Load[worker.ID])
	}

	// The leader closes: b takes over, with the accepted task.
	a.Close()
	tasks, err := b.Routing.Tasks(ctx, backend.TaskFilter{WorkerID: worker.ID})
	if err != nil || len(tasks) != 1 || tasks[0].State != backend.TaskAssigned {
		t.Fatalf("tasks after the takeover: %+v %v", tasks, err)
	}
	if lead, _ := b.Cluster.Leading(); !lead {
		t.Fatal("the second node did not take over")
	}
	if _, err := ana.must("POST", "/api/tasks/"+res.TaskID+"/complete", `{"disposition":"done"}`); err != nil {
		t.Fatal(err)
	}
	// Supervisors' figures read the shared tables: Ana's task, answered and
	// handled, whichever node led at the time.
	figs, err := b.Store.AgentFigures(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil || figs[worker.ID].Handled != 1 {
		t.Fatalf("Ana's figures after the takeover: %+v %v", figs, err)
	}
	if st, err := sms(fake, b.URL(), "main", "+15550000000", "+15557770002", "hello"); err != nil || st != http.StatusOK {
		t.Fatalf("webhook on the new leader: %d %v", st, err)
	}
	sentTo(t, fake, "+15557770002", "echo: hello")
}

// Typing crosses nodes: a web chat visitor connected to one node and a
// supervisor whose desktop is connected to the other each see the other
// typing.
func TestPostgres_TypingCrossesNodes(t *testing.T) {
	ctx := context.Background()
	url, key := pgtest.NewDatabase(t), secret.MustNew()
	fake := twiliotest.NewServer(accountSID, authToken)
	defer fake.Close()
	setUpTeam(t, server.Config{Store: url, SecretKey: key}, fake, nil, nil)
	cfg := server.Config{Store: url, SecretKey: key, PublicURL: crashPublic}
	a, b := openEngine(t, cfg), openEngine(t, cfg)
	if err := a.Store.CreateUser(ctx, &backend.User{Name: "Sue", Email: "sue@example.com", Role: backend.RoleSupervisor}, agentPassword); err != nil {
		t.Fatal(err)
	}
	site := &backend.ChannelInstance{Connector: webchat.ID, Instance: "site", Config: json.RawMessage(`{"allowedOrigins":["*"]}`), Enabled: true}
	if err := a.Channels.PutInstance(ctx, site); err != nil {
		t.Fatal(err)
	}

	// The visitor chats on a.
	req, _ := http.NewRequest("POST", a.URL()+"/widget/site/session", strings.NewReader(`{"name":"Vera"}`))
	req.Header.Set("Origin", "https://shop.example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sess webchat.SessionResponse
	err = json.NewDecoder(resp.Body).Decode(&sess)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("widget session on a: %d %v", resp.StatusCode, err)
	}
	visitor, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(a.URL(), "http")+"/widget/site/ws?token="+sess.Token, http.Header{"Origin": {"https://shop.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	defer visitor.Close()
	if err := visitor.WriteJSON(map[string]string{"type": "message", "nonce": "n1", "text": "hello"}); err != nil {
		t.Fatal(err)
	}
	if f := nextFrame(t, visitor, "ack"); f.Message == nil || f.Message.Text != "hello" {
		t.Fatalf("ack on a: %+v", f)
	}

	// The supervisor works on b.
	sue, err := signInAgent(b.URL(), "sue@example.com", agentPassword)
	if err != nil {
		t.Fatal(err)
	}
	body, err := sue.must("GET", "/api/conversations?channel=webchat", "")
	var convs []backend.Conversation
	if err != nil || json.Unmarshal(body, &convs) != nil || len(convs) != 1 {
		t.Fatalf("the visitor's conversation on b: %s %v", body, err)
	}
	live, err := sue.follow(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer live.ws.Close()

	// The visitor types on a; Sue's desktop on b shows it. The signal is
	// not stored, so the visitor types until one reaches her (her socket
	// may not be registered with b's hub yet).
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			visitor.WriteJSON(map[string]string{"type": "typing"})
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	live.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var frame struct {
			Type   string     `json:"type"`
			Typing api.Typing `json:"typing"`
		}
		if err := live.ws.ReadJSON(&frame); err != nil {
			t.Fatalf("no typing signal reached the desktop on b: %v", err)
		}
		if frame.Type == "typing" {
			if frame.Typing.ConversationID != convs[0].ID || frame.Typing.Who != "customer" || frame.Typing.Name != "Vera" {
				t.Fatalf("typing on b: %+v, want the visitor Vera in %s", frame.Typing, convs[0].ID)
			}
			break
		}
	}

	// Sue types on b; the visitor's widget on a shows it.
	if st, body, err := sue.call("POST", "/api/conversations/"+convs[0].ID+"/typing", ""); err != nil || st != http.StatusNoContent {
		t.Fatalf("typing on b: %d %s %v", st, body, err)
	}
	nextFrame(t, visitor, "typing")
}

// nextFrame reads a web chat socket's frames until one of type typ.
func nextFrame(t *testing.T, ws *websocket.Conn, typ string) webchat.ServerFrame {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var f webchat.ServerFrame
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatalf("no %q frame: %v", typ, err)
		}
		if f.Type == typ {
			return f
		}
	}
}
