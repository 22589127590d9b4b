package pgtest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A test binary that starts a server and then sleeps until it is killed:
// the child half of TestStart_ServerEndsWithAKilledTestBinary.
func TestMain(m *testing.M) {
	if os.Getenv("PGTEST_KILLED_BINARY") == "1" {
		s, err := Start(Fast...)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Printf("started %d %s\n", s.proc.Pid, s.Dir)
		select {}
	}
	os.Exit(m.Run())
}

// A test binary killed by SIGKILL (or `go test -timeout`) takes its server
// with it, and the next start removes the directory it left.
func TestStart_ServerEndsWithAKilledTestBinary(t *testing.T) {
	if _, err := BinDir(); err != nil {
		t.Fatal(err)
	}
	child := exec.Command(os.Args[0], "-test.run", "^$")
	child.Env = append(os.Environ(), "PGTEST_KILLED_BINARY=1")
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	var pid int
	var dir string
	if _, err := fmt.Sscanf(line, "started %d %s", &pid, &dir); err != nil {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("the child test binary did not start a server: %q", line)
	}
	if !isPostgres(pid) {
		t.Fatalf("process %d is not PostgreSQL's server", pid)
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()

	deadline := time.Now().Add(time.Minute)
	for running(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGQUIT)
			os.RemoveAll(dir)
			t.Fatalf("the server (pid %d) still runs a minute after its test binary was killed", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The directory stays until it is older than another binary's start could be.
	old := time.Now().Add(-2 * orphanAge)
	if err := os.Chtimes(dir, old, old); err != nil {
		t.Fatal(err)
	}
	removeOrphans()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		os.RemoveAll(dir)
		t.Fatalf("the killed binary's directory %s is still there (%v)", dir, err)
	}
}

// A young directory may be another binary's between initdb and its server's
// start: it stays.
func TestRemoveOrphans_KeepsYoungDirectories(t *testing.T) {
	dir, err := os.MkdirTemp("", dirPrefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	removeOrphans()
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("a directory made just now was removed: %v", err)
	}
}

// running says whether process pid still runs (a zombie waiting for init to
// reap it has ended).
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}
