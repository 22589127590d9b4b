package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"switchboard/backend/server"
)

// nodeArgsEnv carries, as JSON, the `serve` flags of a child node.
const nodeArgsEnv = "SWITCHBOARD_NODE_CHILD_ARGS"

// runNodeChild is a multi-node test's engine process: `switchboard serve`
// with the flags (and SWITCHBOARD_… variables) it was given, printing where
// it listens and its node id, until it is killed or the test process is
// gone (its end of stdin closes).
func runNodeChild(args string) {
	var flags []string
	if err := json.Unmarshal([]byte(args), &flags); err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	cfg, err := server.ParseServe(flags, os.Getenv, os.Stderr)
	if err == nil {
		cfg.PasswordCost, cfg.Logger = 4, slog.New(slog.NewTextHandler(os.Stderr, nil))
		var e *server.Server
		if e, err = server.Open(context.Background(), cfg); err == nil {
			fmt.Println("LISTEN", strings.TrimPrefix(e.URL(), "http://"))
			fmt.Println("NODE", e.PG.Node())
			io.Copy(io.Discard, os.Stdin)
			os.Exit(0)
		}
	}
	fmt.Println("ERROR", err)
	os.Exit(1)
}

// node is a running child engine.
type node struct {
	name string
	cmd  *exec.Cmd
	base string // http://addr
	id   int64

	mu sync.Mutex
	// leads holds when the node logged that it leads routing.
	leads   []time.Time
	log     []string
	partial string
}

// startNode starts a child engine with serve's flags and waits until it
// listens.
func startNode(t *testing.T, name string, flags []string, env ...string) *node {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args, _ := json.Marshal(flags)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(append(os.Environ(), nodeArgsEnv+"="+string(args)), env...)
	n := &node{name: name, cmd: cmd}
	cmd.Stderr = n
	out, _ := cmd.StdoutPipe()
	if _, err := cmd.StdinPipe(); err != nil { // held open for the child's life
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.kill)
	lines := bufio.NewReader(out)
	for _, want := range []string{"LISTEN ", "NODE "} {
		line, err := lines.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, want) {
			n.kill()
			t.Fatalf("node %s said %q (%v); its log:\n%s", name, line, err, n.logText())
		}
		v := strings.TrimSpace(strings.TrimPrefix(line, want))
		if want == "LISTEN " {
			n.base = "http://" + v
		} else {
			n.id, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return n
}

// Write takes the node's log (its stderr), noting when it starts leading
// routing.
func (n *node) Write(p []byte) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.partial += string(p)
	for {
		line, rest, ok := strings.Cut(n.partial, "\n")
		if !ok {
			return len(p), nil
		}
		n.partial = rest
		n.log = append(n.log, line)
		if strings.Contains(line, "routing leadership: this node leads") {
			n.leads = append(n.leads, time.Now())
		}
	}
}

// ledAt returns when the node last logged that it leads (zero: never).
func (n *node) ledAt() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.leads) == 0 {
		return time.Time{}
	}
	return n.leads[len(n.leads)-1]
}

func (n *node) logText() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.log, "\n")
}

// kill ends the node at once (SIGKILL: no shutdown, no resigning).
func (n *node) kill() {
	if n.cmd.ProcessState == nil {
		n.cmd.Process.Signal(syscall.SIGKILL)
		n.cmd.Wait()
	}
}
