package channels_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
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
	"switchboard/backend/secret"
	"switchboard/backend/sqlite"
	"switchboard/channels"
	"switchboard/channels/twilio"
	"switchboard/channels/twilio/twiliotest"
)

const (
	crashAccount = "AC00000000000000000000000000000009"
	crashToken   = "crash-token"
	childEnv     = "SWITCHBOARD_HOOKS_CHILD_DB"
	childKeyEnv  = "SWITCHBOARD_HOOKS_CHILD_KEY"
)

// crashKey is the secret key the test and its child open the store with.
var crashKey = secret.MustNew()

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		runChild(path)
		return
	}
	os.Exit(m.Run())
}

// runChild is the engine process of the crash test: the hooks handler on a
// real SQLite file, listening on a random port it prints.
func runChild(path string) {
	db := sqlite.NewDB(path)
	key, err := secret.Parse(os.Getenv(childKeyEnv))
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	db.Secrets = key
	if err := db.Open(context.Background()); err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	hub, err := channels.NewHub(context.Background(), db, channels.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("LISTEN", ln.Addr().String())
	http.Serve(ln, hub)
}

type child struct {
	cmd  *exec.Cmd
	addr string
}

func startChild(t *testing.T, path string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path, childKeyEnv+"="+crashKey.Text())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "LISTEN ") {
		cmd.Process.Kill()
		t.Fatalf("child said %q: %v", line, err)
	}
	return &child{cmd: cmd, addr: strings.TrimSpace(strings.TrimPrefix(line, "LISTEN "))}
}

func (c *child) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
}

// TestCrash_AckedWebhooksSurviveSIGKILL posts signed Twilio webhooks from
// several clients, SIGKILLs the engine mid-load, restarts it, redelivers
// everything (as Twilio's retries or a fallback would) and checks that every
// webhook that got a 2xx is stored exactly once.
func TestCrash_AckedWebhooksSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test re-executes the test binary")
	}
	path := filepath.Join(t.TempDir(), "engine.db")
	db := sqlite.NewDB(path)
	db.Secrets = crashKey
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := db.PutChannelInstance(context.Background(), &backend.ChannelInstance{Connector: twilio.SMS, Instance: "main", Enabled: true,
		Config: []byte(`{"accountSid":"` + crashAccount + `","authToken":"` + crashToken + `","from":"+15550001234"}`)}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	fake := twiliotest.NewServer(crashAccount, crashToken)
	defer fake.Close()
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(addr string, p url.Values) (int, error) {
		resp, err := client.Do(fake.WebhookRequest("http://"+addr+"/hooks/sms.twilio/main", p))
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	c := startChild(t, path)
	var (
		mu     sync.Mutex
		sent   []url.Values
		acked  = map[string]bool{}
		failed int
		stop   = make(chan struct{})
		wg     sync.WaitGroup
	)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := fake.InboundParams(fmt.Sprintf("+1555%07d", (w*1_000_000+i)%10_000_000), "+15550001234", "load")
				mu.Lock()
				sent = append(sent, p)
				mu.Unlock()
				status, err := post(c.addr, p)
				mu.Lock()
				if err == nil && status/100 == 2 {
					acked[p.Get("MessageSid")] = true
				} else {
					failed++
				}
				mu.Unlock()
				if err != nil {
					return // the engine is gone
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	c.kill()
	close(stop)
	wg.Wait()
	ackedBefore := len(acked)
	if ackedBefore == 0 {
		t.Fatal("no webhook was acknowledged before the kill")
	}

	// Before any redelivery (which would mask a loss), every acknowledged
	// webhook must already be in the file the killed process left.
	stored := storedCounts(t, path)
	lost := 0
	for sid := range acked {
		if stored[sid] != 1 {
			lost++
		}
	}
	if lost != 0 {
		t.Fatalf("%d of %d acknowledged webhooks were not stored exactly once after SIGKILL", lost, ackedBefore)
	}
	storedAtKill := len(stored)

	// Restart and redeliver everything: acknowledged ones must not double,
	// unacknowledged ones get stored now.
	c = startChild(t, path)
	redelivered := 0
	for _, p := range sent {
		if status, err := post(c.addr, p); err != nil || status != http.StatusOK {
			t.Fatalf("redelivery after restart: %d %v", status, err)
		}
		redelivered++
	}
	c.kill()

	counts := storedCounts(t, path)
	missing, dups := 0, 0
	for sid := range acked {
		switch counts[sid] {
		case 0:
			missing++
		case 1:
		default:
			dups++
		}
	}
	for _, n := range counts {
		if n > 1 {
			dups++
		}
	}
	t.Logf("crash test: %d webhooks posted, %d acknowledged (2xx) before SIGKILL, %d failed or cut off by the kill; "+
		"%d stored when killed (acknowledged ones all present, none twice); %d redelivered after restart; %d messages stored; acknowledged but missing: %d; stored twice: %d",
		len(sent), ackedBefore, failed, storedAtKill, redelivered, len(counts), missing, dups)
	if missing != 0 || dups != 0 {
		t.Fatalf("%d acknowledged webhooks lost, %d stored twice", missing, dups)
	}
	if len(counts) != len(sent) {
		t.Fatalf("%d distinct messages stored, %d posted", len(counts), len(sent))
	}
}

// storedCounts opens the store file and counts messages per Twilio sid.
func storedCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	db := sqlite.NewDB(path)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts := map[string]int{}
	rows, err := db.Reader().Query(`SELECT external_id, COUNT(*) FROM messages WHERE channel = 'sms.twilio' GROUP BY external_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		counts[id] = n
	}
	return counts
}
