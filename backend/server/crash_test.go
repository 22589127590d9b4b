package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/postgres/pgtest"
	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/backend/sqlite"
	"switchboard/channels/twilio/twiliotest"
)

// The child engine's settings, passed by environment variable.
const (
	childDataEnv = "SWITCHBOARD_CRASH_CHILD_DATA"
	childFakeEnv = "SWITCHBOARD_CRASH_CHILD_TWILIO"
	crashPublic  = "https://support.example.test"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDataEnv); dir != "" {
		runEngineChild(dir)
		return
	}
	if args := os.Getenv(nodeArgsEnv); args != "" {
		runNodeChild(args)
		return
	}
	os.Exit(pgtest.Main(m))
}

// runEngineChild is the crash test's engine process: the whole engine
// (channels, flows, routing, API) on dir, printing where it listens, until
// it is killed.
func runEngineChild(dir string) {
	key, err := secret.Parse(os.Getenv(server.SecretKeyEnv))
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	e, err := server.Open(context.Background(), server.Config{
		Addr: "127.0.0.1:0", DataDir: dir, SecretKey: key, PublicURL: crashPublic, PasswordCost: 4, Logger: discard(),
		ChannelBaseURLs: map[string]string{"sms.twilio": os.Getenv(childFakeEnv)},
	})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("LISTEN", strings.TrimPrefix(e.URL(), "http://"))
	// Until killed, or until the test process is gone (its end of stdin
	// closes), so that no engine outlives an interrupted test.
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// echoFlow answers every message with "echo: <text>" and hands the
// conversation to an agent when a message says "agent".
const echoFlow = `{"name":"echo","widgets":[
	{"name":"trigger","type":"trigger","transitions":{"incomingMessage":"route"}},
	{"name":"route","type":"split","transitions":{"agent":"handoff","noMatch":"echo"},
	 "properties":{"input":"{{message.body}}","cases":[{"event":"agent","op":"contains","value":"agent"}]}},
	{"name":"echo","type":"send-and-wait-for-reply","transitions":{"incomingMessage":"route","timeout":"end","failed":"end"},
	 "properties":{"body":"echo: {{message.body}}","timeout":86400}},
	{"name":"handoff","type":"send-to-agent","transitions":{"failed":"end"},"properties":{"channel":"chat"}},
	{"name":"end","type":"end"}]}`

// Load shape: numbers × customers per number × messages per customer; the
// last message of each customer asks for an agent.
const (
	crashNumbers   = 8
	crashCustomers = 4
	crashMessages  = 12
	crashKills     = 20
	acksPerLife    = 15 // acknowledged webhooks between two kills
)

type crashMsg struct {
	instance, number, customer, text, sid string
	params                                url.Values
	agent                                 bool
}

// engineChild is the running child and its generation.
type engineChild struct {
	mu   sync.Mutex
	addr string
	gen  int
	up   chan struct{} // closed while the current generation serves
	cmd  *exec.Cmd
	// stopped is set once the test killed the last generation.
	stopped bool
}

// current returns the address to post to and its generation, waiting
// while the engine is down.
func (c *engineChild) current() (string, int) {
	c.mu.Lock()
	up := c.up
	c.mu.Unlock()
	<-up
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addr, c.gen
}

// TestCrash_WholeEngineKilled20Times is the acceptance test for "no message
// lost between the hub and its flow": the whole engine runs in a child
// process on one data directory under signed Twilio webhooks from eight
// numbers, and is SIGKILLed 20 times (each after 15 more acknowledged
// webhooks) and restarted on the same directory. Senders repost whatever
// was not acknowledged, as Twilio's retries would. In the end every
// acknowledged message is stored exactly once and seen by its flow exactly
// once (one echo, or one task for the hand-over), and the fake Twilio got
// no reply twice.
func TestCrash_WholeEngineKilled20Times(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test runs the engine in child processes")
	}
	if raceDetector {
		t.Skip("runs without the race detector, where its 21 child engines are ten times faster: make crash-test (part of make test)")
	}
	started := time.Now()
	dir := t.TempDir()
	key := secret.MustNew()
	fake := twiliotest.NewServer(accountSID, authToken)
	defer fake.Close()
	setUpCrashWorkspace(t, dir, key, fake)
	msgs := crashLoad(fake)

	child := &engineChild{up: make(chan struct{})}
	var restarts []time.Duration
	start := func() {
		t0 := time.Now()
		cmd, addr := startEngineChild(t, dir, key, fake.URL)
		restarts = append(restarts, time.Since(t0))
		child.mu.Lock()
		child.cmd, child.addr = cmd, addr
		child.gen++
		close(child.up)
		child.mu.Unlock()
	}
	kill := func() {
		child.mu.Lock()
		child.up = make(chan struct{})
		cmd := child.cmd
		child.mu.Unlock()
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	t.Cleanup(func() { // a failed run leaves no engine behind
		if !child.stopped && child.cmd != nil {
			kill()
		}
	})

	acks := make(chan struct{}, len(msgs))
	var posts sync.WaitGroup
	var mu sync.Mutex
	attempts := 0
	for n := range crashNumbers {
		posts.Add(1)
		go func() {
			defer posts.Done()
			for _, m := range msgs {
				if m.instance != fmt.Sprintf("n%d", n) {
					continue
				}
				for { // until acknowledged, across kills
					addr, gen := child.current()
					mu.Lock()
					attempts++
					mu.Unlock()
					if postWebhook(fake, addr, m) {
						acks <- struct{}{}
						break
					}
					child.afterFailure(gen)
				}
			}
		}()
	}
	loaded := make(chan struct{})
	go func() { posts.Wait(); close(loaded) }()
	start()
	for k := range crashKills {
		for range acksPerLife {
			select {
			case <-acks:
			case <-loaded:
				t.Fatalf("the load ended after %d kills; make it longer", k)
			}
		}
		kill()
		start()
	}
	<-loaded
	loadDone := time.Since(started)
	db := openCrashDB(t, dir, key)
	report := waitDrained(t, db, fake, msgs)
	kill()
	child.stopped = true
	r := checkExactlyOnce(t, db, fake, msgs, openTasks(t, db))
	var slowest time.Duration
	for _, d := range restarts {
		slowest = max(slowest, d)
	}
	t.Logf("crash test: %d kills, %d restarts (slowest to listening %v); %d messages in %d conversations, %d posts (%d reposted after a kill); "+
		"stored once each: %d; echoes stored once each: %d; tasks: %d for %d hand-overs; replies at the fake: %d, none twice; "+
		"failed as in doubt (interrupted mid-send, not repeated): %d of which %d had reached the fake; load done in %v, drained in %v, total %v",
		crashKills, len(restarts), slowest.Round(time.Millisecond), len(msgs), crashNumbers*crashCustomers, attempts, attempts-len(msgs),
		r.stored, r.echoes, r.tasks, crashNumbers*crashCustomers, r.atFake, r.inDoubt, r.inDoubtReached,
		loadDone.Round(time.Millisecond), report.Round(time.Millisecond), time.Since(started).Round(time.Millisecond))
}

// afterFailure waits, after a post to generation gen failed, until the
// engine serves again: a later generation once the killed one restarted,
// or a moment when the same one answered non-2xx (a 503).
func (c *engineChild) afterFailure(gen int) {
	c.mu.Lock()
	up, cur := c.up, c.gen
	c.mu.Unlock()
	select {
	case <-up:
		if cur == gen {
			time.Sleep(10 * time.Millisecond)
		}
	default:
		<-up // killed: wait for the restart
	}
}

// setUpCrashWorkspace configures the numbers and their flow with the engine
// in this process, before any child runs.
func setUpCrashWorkspace(t *testing.T, dir string, key *secret.Key, fake *twiliotest.Server) {
	t.Helper()
	ctx := context.Background()
	e, err := server.Open(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: dir, SecretKey: key, PasswordCost: 4, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	f, err := parseFlow(echoFlow)
	if err != nil {
		t.Fatal(err)
	}
	for n := range crashNumbers {
		name := fmt.Sprintf("n%d", n)
		cfg := fmt.Sprintf(`{"accountSid":%q,"authToken":%q,"from":"+1555000%04d"}`, accountSID, authToken, n)
		if err := e.Channels.PutInstance(ctx, &backend.ChannelInstance{Connector: "sms.twilio", Instance: name, Config: json.RawMessage(cfg), Enabled: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Flows.SetFlow(ctx, backend.FlowKey("sms.twilio", name), f); err != nil {
			t.Fatal(err)
		}
	}
}

func parseFlow(s string) (*backend.Flow, error) {
	var f backend.Flow
	return &f, json.Unmarshal([]byte(s), &f)
}

// crashLoad makes every message of the test, each conversation's in order.
func crashLoad(fake *twiliotest.Server) []*crashMsg {
	var out []*crashMsg
	for i := range crashMessages {
		for n := range crashNumbers {
			for c := range crashCustomers {
				m := &crashMsg{instance: fmt.Sprintf("n%d", n), number: fmt.Sprintf("+1555000%04d", n),
					customer: fmt.Sprintf("+1555777%02d%02d", n, c), text: fmt.Sprintf("hello %d-%d #%d", n, c, i)}
				if i == crashMessages-1 {
					m.text, m.agent = fmt.Sprintf("agent please %d-%d", n, c), true
				}
				m.params = fake.InboundParams(m.customer, m.number, m.text)
				m.sid = m.params.Get("MessageSid")
				out = append(out, m)
			}
		}
	}
	return out
}

// postWebhook posts one signed webhook and reports whether it was
// acknowledged.
func postWebhook(fake *twiliotest.Server, addr string, m *crashMsg) bool {
	req := fake.WebhookRequest(crashPublic+"/hooks/sms.twilio/"+m.instance, m.params)
	req.URL, _ = url.Parse("http://" + addr + "/hooks/sms.twilio/" + m.instance)
	req.Host = addr
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func startEngineChild(t *testing.T, dir string, key *secret.Key, fakeURL string) (*exec.Cmd, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childDataEnv+"="+dir, childFakeEnv+"="+fakeURL, server.SecretKeyEnv+"="+key.Text())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.StdinPipe(); err != nil { // held open for the child's life
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "LISTEN ") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the engine child said %q: %v", line, err)
	}
	return cmd, strings.TrimSpace(strings.TrimPrefix(line, "LISTEN "))
}

func openCrashDB(t *testing.T, dir string, key *secret.Key) *sqlite.DB {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(dir, "engine.db"))
	db.Secrets = key
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// conversationOf returns the conversation of a customer's messages.
func conversationOf(t *testing.T, db server.Store, m *crashMsg) (string, bool) {
	t.Helper()
	stored, err := db.FindMessageByExternalID(context.Background(), "sms.twilio", m.instance, m.sid)
	if backend.ErrorCode(err) == backend.ENotFound {
		return "", false
	} else if err != nil {
		t.Fatal(err)
	}
	return stored.ConversationID, true
}

// waitDrained waits until every message had its effect: its echo reached
// the fake (or failed as in doubt: interrupted mid-send), or, for the last
// message of each conversation, the hand-over made its task. It watches the
// fake, which is cheap, and reads the store only for what the fake lacks
// once that is the tail or the fake stops getting more;
// the deadline only stops a broken run.
func waitDrained(t *testing.T, db server.Store, fake *twiliotest.Server, msgs []*crashMsg) time.Duration {
	t.Helper()
	began := time.Now()
	deadline := began.Add(2 * time.Minute)
	settled := map[*crashMsg]bool{}
	lastMissing, since := -1, time.Now()
	for {
		bodies := fakeBodies(fake)
		var missing []*crashMsg
		for _, m := range msgs {
			if !settled[m] && (m.agent || bodies["echo: "+m.text] == 0) {
				missing = append(missing, m)
			}
		}
		if len(missing) != lastMissing {
			lastMissing, since = len(missing), time.Now()
		}
		// The tail, or the fake gets nothing more (what is left failed as
		// in doubt or waits for its flow): look in the store.
		if len(missing) <= 2*crashNumbers*crashCustomers || time.Since(since) > time.Second {
			for _, m := range missing {
				settled[m] = hadEffect(t, db, m)
			}
		}
		done := true
		for _, m := range missing {
			done = done && settled[m]
		}
		if done {
			return time.Since(began)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engine never caught up: %d messages without their effect, such as %q", len(missing), missing[0].text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hadEffect reports whether a message's flow answered it with an echo that
// failed as in doubt, or (a hand-over) made its task.
func hadEffect(t *testing.T, db server.Store, m *crashMsg) bool {
	t.Helper()
	conv, ok := conversationOf(t, db, m)
	if !ok {
		return false
	}
	if m.agent {
		x, err := db.FindFlowExecution(context.Background(), conv)
		return err == nil && x.Status == backend.FlowAgent && x.TaskID != ""
	}
	echo := findOutbound(t, db, conv, "echo: "+m.text)
	return len(echo) > 0 && echo[0].Status == backend.DeliveryFailed
}

func fakeBodies(fake *twiliotest.Server) map[string]int {
	out := map[string]int{}
	for _, r := range fake.Requests() {
		out[r.Form.Get("Body")]++
	}
	return out
}

func findOutbound(t *testing.T, db server.Store, conv, text string) []*backend.Message {
	t.Helper()
	all, err := db.FindMessages(context.Background(), conv)
	if err != nil {
		t.Fatal(err)
	}
	var out []*backend.Message
	for _, m := range all {
		if m.Direction == backend.DirectionOut && m.Text == text {
			out = append(out, m)
		}
	}
	return out
}

type crashResult struct {
	stored, echoes, tasks, atFake, inDoubt, inDoubtReached int
}

// checkExactlyOnce checks the store and the fake once the engine is
// stopped; perConv counts the tasks of each conversation.
func checkExactlyOnce(t *testing.T, db server.Store, fake *twiliotest.Server, msgs []*crashMsg, perConv map[string]int) crashResult {
	t.Helper()
	ctx := context.Background()
	var r crashResult
	bodies := fakeBodies(fake)
	for body, n := range bodies {
		if n > 1 {
			t.Errorf("the fake Twilio got %q %d times", body, n)
		}
		r.atFake += n
	}
	convs := map[string]bool{}
	for _, m := range msgs {
		conv, ok := conversationOf(t, db, m)
		if !ok {
			t.Errorf("acknowledged but not stored: %s", m.text)
			continue
		}
		convs[conv] = true
		if m.agent {
			continue
		}
		echo := findOutbound(t, db, conv, "echo: "+m.text)
		if len(echo) != 1 {
			t.Errorf("%q was answered %d times (its flow saw it %d times)", m.text, len(echo), len(echo))
			continue
		}
		r.echoes++
		if echo[0].Status == backend.DeliveryFailed {
			r.inDoubt++
			if bodies[echo[0].Text] > 0 {
				r.inDoubtReached++
			}
		}
	}
	for _, n := range perConv {
		r.tasks += n
	}
	for conv := range convs {
		if perConv[conv] != 1 {
			t.Errorf("conversation %s has %d tasks, want one hand-over", conv, perConv[conv])
		}
		all, err := db.FindMessages(ctx, conv)
		if err != nil {
			t.Fatal(err)
		}
		inbound := 0
		for _, m := range all {
			if m.Direction == backend.DirectionIn {
				inbound++
			}
		}
		if inbound != crashMessages {
			t.Errorf("conversation %s stored %d inbound messages, want %d (each once)", conv, inbound, crashMessages)
		}
		r.stored += inbound
	}
	if len(convs) != crashNumbers*crashCustomers {
		t.Errorf("%d conversations, want %d", len(convs), crashNumbers*crashCustomers)
	}
	return r
}

// openTasks counts the open tasks of each conversation.
func openTasks(t *testing.T, db server.Store) map[string]int {
	t.Helper()
	snap, err := db.LoadRouting(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	perConv := map[string]int{}
	for _, task := range snap.Tasks {
		perConv[task.ConversationID]++
	}
	return perConv
}
