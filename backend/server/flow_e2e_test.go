package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/flow"
	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/channels/twilio/twiliotest"
)

const (
	accountSID = "AC00000000000000000000000000000002"
	authToken  = "flow-e2e-token"
	ourNumber  = "+15550000200"
)

// startEngine runs a whole engine with its SMS channel on the fake Twilio.
func startEngine(t *testing.T, fake *twiliotest.Server) *server.Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	e, err := server.Open(context.Background(), server.Config{
		Addr: addr, DataDir: t.TempDir(), PasswordCost: 4, PublicURL: "http://" + addr, SecretKey: secret.MustNew(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ChannelBaseURLs: map[string]string{"sms.twilio": fake.URL},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	ctx := context.Background()
	cfg := fmt.Sprintf(`{"accountSid":%q,"authToken":%q,"from":%q}`, accountSID, authToken, ourNumber)
	if err := e.Channels.PutInstance(ctx, &backend.ChannelInstance{Connector: "sms.twilio", Instance: "main", Config: json.RawMessage(cfg), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	return e // a new workspace has a Support queue and a Default workflow
}

// text posts a signed SMS webhook from a customer through the fake.
func text(t *testing.T, e *server.Server, fake *twiliotest.Server, from, body string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(fake.WebhookRequest(e.URL()+"/hooks/sms.twilio/main", fake.InboundParams(from, ourNumber, body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook answered %d", resp.StatusCode)
	}
}

// sentTo waits until the fake received a message to a number containing want.
func sentTo(t *testing.T, fake *twiliotest.Server, to, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range fake.Requests() {
			if r.Form.Get("To") == to && strings.Contains(r.Form.Get("Body"), want) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the fake platform never received %q for %s", want, to)
}

// TestFlows_ThroughTheFakePlatform is the flows' end-to-end test: real
// webhooks through the fake Twilio into the engine's default flow, and a
// flow whose HTTP widget asks a local test bot.
func TestFlows_ThroughTheFakePlatform(t *testing.T) {
	ctx := context.Background()
	fake := twiliotest.NewServer(accountSID, authToken)
	defer fake.Close()
	e := startEngine(t, fake)

	text(t, e, fake, "+14155550101", "hi")
	sentTo(t, fake, "+14155550101", "virtual assistant")

	text(t, e, fake, "+14155550102", "I want a live agent")
	sentTo(t, fake, "+14155550102", "live agent")
	var task *backend.Task
	deadline := time.Now().Add(15 * time.Second)
	for task == nil && time.Now().Before(deadline) {
		tasks, err := e.Routing.Tasks(ctx, backend.TaskFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(tasks) > 0 {
			task = tasks[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	if task == nil {
		t.Fatal("no routing task was created")
	}
	conv, err := e.DB.FindConversationByID(ctx, task.ConversationID)
	if err != nil || conv.ThreadKey == "" || !strings.Contains(conv.ThreadKey, "+14155550102") {
		t.Fatalf("task conversation = %+v, %v", conv, err)
	}
	if task.Channel != backend.ChannelChat || task.Attributes["language"] != "en" || task.Attributes["department"] != "support" || task.QueueID != "q_support" {
		t.Fatalf("task = %+v", task)
	}

	// A flow that hands every message to the company's chatbot over HTTP.
	var mu sync.Mutex
	var asked []string
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Text string }
		json.NewDecoder(r.Body).Decode(&in)
		mu.Lock()
		asked = append(asked, in.Text)
		mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"reply": "Bot says: your parcel ships tomorrow.", "handover": false})
	}))
	defer bot.Close()
	raw, err := os.ReadFile("../flow/testdata/flows/http_bot.json")
	if err != nil {
		t.Fatal(err)
	}
	def, err := flow.Parse([]byte(strings.Replace(string(raw), "https://bot.example.com/v1/message", bot.URL, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Flows.SetFlow(ctx, backend.FlowKey("sms.twilio", "main"), def); err != nil {
		t.Fatal(err)
	}
	text(t, e, fake, "+14155550103", "where is my parcel?")
	sentTo(t, fake, "+14155550103", "Bot says: your parcel ships tomorrow.")
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 1 || asked[0] != "where is my parcel?" {
		t.Fatalf("the bot was asked %q", asked)
	}
}

// TestFlowAPI saves, reads and dry-runs flows over the admin API.
func TestFlowAPI(t *testing.T) {
	fake := twiliotest.NewServer(accountSID, authToken)
	defer fake.Close()
	e := startEngine(t, fake)
	ctx := context.Background()
	if err := e.DB.CreateUser(ctx, &backend.User{Name: "Admin", Email: "admin@example.com", Role: backend.RoleAdmin}, "password1"); err != nil {
		t.Fatal(err)
	}
	var signin struct{ Token string }
	do := func(method, path, body string, out any) int {
		req, _ := http.NewRequest(method, e.URL()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if signin.Token != "" {
			req.Header.Set("Authorization", "Bearer "+signin.Token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	do("POST", "/api/auth/signin", `{"email":"admin@example.com","password":"password1"}`, &signin)

	var rev backend.FlowRevision
	if st := do("GET", "/api/flows/sms.twilio/main", "", &rev); st != 200 || rev.Revision != 0 || rev.Flow == nil || len(rev.Flow.Widgets) == 0 {
		t.Fatalf("default flow: %d %+v", st, rev)
	}
	def, _ := json.Marshal(rev.Flow)
	var saved backend.FlowRevision
	if st := do("PUT", "/api/flows/sms.twilio/main", string(def), &saved); st != 200 || saved.Revision != 1 {
		t.Fatalf("save: %d %+v", st, saved)
	}
	var bad struct {
		Error struct{ Code, Message string }
	}
	broken := `{"name":"x","widgets":[{"name":"trigger","type":"trigger","transitions":{"incomingMessage":"nowhere"}}]}`
	if st := do("PUT", "/api/flows/sms.twilio/main", broken, &bad); st != 400 || !strings.Contains(bad.Error.Message, "nowhere") {
		t.Fatalf("invalid flow: %d %+v", st, bad)
	}
	if st := do("PUT", "/api/flows/sms.twilio/main", `{"name":`, &bad); st != 400 || !strings.Contains(bad.Error.Message, "not valid JSON") {
		t.Fatalf("malformed flow: %d %+v", st, bad)
	}
	var out struct {
		Runs []flow.SimulatedRun `json:"runs"`
	}
	body := fmt.Sprintf(`{"flow":%s,"messages":["hi","I want a live agent"]}`, def)
	if st := do("POST", "/api/flows/test", body, &out); st != 200 || len(out.Runs) != 2 || len(out.Runs[1].Steps) == 0 {
		t.Fatalf("test: %d %+v", st, out)
	}
	if got := out.Runs[1].Steps[len(out.Runs[1].Steps)-1].Status; got != backend.FlowAgent {
		t.Fatalf("second message ended %q", got)
	}
	if len(fake.Requests()) != 0 {
		t.Fatalf("the dry run sent %d requests to the platform", len(fake.Requests()))
	}
}

func jsonDecode(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
