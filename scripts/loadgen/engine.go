package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// engine is the `switchboard serve` child process.
type engine struct {
	cmd     *exec.Cmd
	url     string
	dataDir string
	version string
	keep    bool
	exited  chan struct{}
}

const (
	adminEmail    = "admin@load.test"
	adminPassword = "load-test-password"
	instance      = "load"
	channelSecret = "load-generator-shared-secret"
)

// startEngine creates a data directory with an admin and starts serve on a
// free loopback port, returning once it answers.
func startEngine(ctx context.Context, o options, stderr io.Writer) (*engine, error) {
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "switchboard-load-")
	if err != nil {
		return nil, err
	}
	e := &engine{dataDir: filepath.Join(dir, "data"), keep: o.keepData, exited: make(chan struct{})}
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s version: %w", bin, err)
	}
	e.version = strings.TrimSpace(string(out))
	key, err := exec.CommandContext(ctx, bin, "key", "generate").Output()
	if err != nil {
		return nil, fmt.Errorf("key generate: %w", err)
	}
	add := exec.CommandContext(ctx, bin, "user", "add", "--data", e.dataDir, "--email", adminEmail, "--name", "Load admin", "--role", "admin")
	add.Stdin = strings.NewReader(adminPassword + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("user add: %w: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--addr", "127.0.0.1:" + port, "--data", e.dataDir}
	if o.synchronous != "" {
		args = append(args, "--synchronous", o.synchronous)
	}
	if o.cpuProfile != "" {
		p, err := filepath.Abs(o.cpuProfile)
		if err != nil {
			return nil, err
		}
		args = append(args, "--cpu-profile", p)
	}
	e.cmd = exec.Command(bin, args...)
	e.cmd.Env = append(os.Environ(), "SWITCHBOARD_SECRET_KEY="+strings.TrimSpace(string(key)))
	log, err := os.Create(filepath.Join(dir, "engine.log"))
	if err != nil {
		return nil, err
	}
	e.cmd.Stdout, e.cmd.Stderr = log, log
	if err := e.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { e.cmd.Wait(); log.Close(); close(e.exited) }()
	e.url = "http://127.0.0.1:" + port
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(e.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return e, nil
			}
		}
		select {
		case <-e.exited:
			tail, _ := os.ReadFile(filepath.Join(dir, "engine.log"))
			return nil, fmt.Errorf("the engine exited: %s", tail)
		case <-ctx.Done():
			e.stop(func(string, ...any) {})
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.stop(func(string, ...any) {})
			return nil, fmt.Errorf("the engine did not answer on %s within 30 s", e.url)
		}
	}
}

// stop ends the engine with SIGTERM (it closes in order) and removes its
// data unless asked to keep it.
func (e *engine) stop(logf func(string, ...any)) {
	e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(30 * time.Second):
		e.cmd.Process.Kill()
		<-e.exited
	}
	if e.keep {
		logf("engine data kept in %s", filepath.Dir(e.dataDir))
		return
	}
	os.RemoveAll(filepath.Dir(e.dataDir))
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port, nil
}

// processCPU returns the CPU time (user and system) pid has used so far.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

// workspace is what setUp made.
type workspace struct {
	adminToken string
	agents     []credentials
}

type credentials struct{ email, password string }

// setUp configures the custom channel, its flow and the agents.
func setUp(ctx context.Context, e *engine, o options, replyURL string) (*workspace, error) {
	ws := &workspace{}
	var signin struct {
		Token string `json:"token"`
	}
	if err := call(ctx, e.url, "", "POST", "/api/auth/signin", map[string]string{"email": adminEmail, "password": adminPassword}, &signin); err != nil {
		return nil, err
	}
	ws.adminToken = signin.Token
	cfg := map[string]any{"config": map[string]string{"secret": channelSecret, "url": replyURL}, "enabled": true}
	if err := call(ctx, e.url, ws.adminToken, "PUT", "/api/channels/custom/"+instance, cfg, nil); err != nil {
		return nil, err
	}
	if err := call(ctx, e.url, ws.adminToken, "PUT", "/api/flows/custom/"+instance, json.RawMessage(straightToAgent), nil); err != nil {
		return nil, err
	}
	for i := range o.agents {
		c := credentials{email: fmt.Sprintf("agent%d@load.test", i), password: adminPassword}
		u := map[string]string{"name": fmt.Sprintf("Agent %d", i), "email": c.email, "role": "agent", "password": c.password}
		if err := call(ctx, e.url, ws.adminToken, "POST", "/api/users", u, nil); err != nil {
			return nil, err
		}
		ws.agents = append(ws.agents, c)
	}
	return ws, nil
}

// straightToAgent hands every new conversation to an agent, saying nothing
// to the customer, so the run measures the path from webhook to offer (and
// not the platform's send rate).
const straightToAgent = `{"name": "Load: straight to an agent", "widgets": [
	{"name": "trigger", "type": "trigger", "transitions": {"incomingMessage": "to_agent"}},
	{"name": "to_agent", "type": "send-to-agent", "transitions": {"failed": "end"}, "properties": {"channel": "chat"}},
	{"name": "end", "type": "end"}]}`

var apiClient = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

// call makes one API request with a JSON body and decodes the answer into
// out (when not nil). A status other than 2xx is an error with the body.
func call(ctx context.Context, base, token, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// replyReceiver is the platform side of the custom channel: it takes the
// engine's replies (none with the default load flow) and counts them.
type replyReceiver struct {
	*httptest.Server
	count atomic.Int64
}

func startReplyReceiver() (*replyReceiver, error) {
	r := &replyReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		n := r.count.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"reply-%d"}`, n)
	}))
	return r, nil
}
