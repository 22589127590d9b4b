// Package pgtest starts a private PostgreSQL server from Debian's package
// (initdb into a temporary directory, the server on a Unix socket there) for
// tests, and hands each test a database of its own. Nothing needs to run
// beforehand; the server stops when the test binary ends, also when it is
// killed or times out (the server is its child, with a parent-death signal),
// and the next start removes what such a binary left in the temporary
// directory.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a running PostgreSQL server that listens only on a Unix socket
// in its data directory's parent.
type Server struct {
	// Dir holds the cluster (Dir/data) and the socket.
	Dir string
	bin string
	// cred runs the server as the postgres user when the tests run as
	// root (PostgreSQL refuses to run as root).
	cred *syscall.Credential
	uid  int
	// proc is the postmaster; exited is closed when it has ended, with
	// waitErr saying how.
	proc    *os.Process
	exited  chan struct{}
	waitErr error
}

// dirPrefix names the servers' temporary directories.
const dirPrefix = "switchboard-pg-"

// orphanAge is how old a directory without a running server must be before
// another test binary removes it: younger ones may be another binary's,
// between its initdb and its server's start.
const orphanAge = 10 * time.Minute

// BinDir returns the directory of Debian's PostgreSQL server programs (the
// newest version installed), or an error saying which package to install.
func BinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	var found []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		return "", errors.New("no PostgreSQL server found under /usr/lib/postgresql: apt-get install postgresql")
	}
	sort.Slice(found, func(i, j int) bool { return version(found[i]) < version(found[j]) })
	return found[len(found)-1], nil
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start runs initdb into a new temporary directory and starts the server
// on a socket there, with settings for tests (extra are more -c settings,
// such as "max_connections=300").
func Start(extra ...string) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	removeOrphans()
	s := &Server{bin: bin, uid: -1}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("the tests run as root and PostgreSQL refuses to: need the postgres user of Debian's package: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred, s.uid = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid
	}
	if s.Dir, err = os.MkdirTemp("", dirPrefix+"*"); err != nil {
		return nil, err
	}
	if s.uid >= 0 {
		if err := os.Chown(s.Dir, s.uid, -1); err != nil {
			os.RemoveAll(s.Dir)
			return nil, err
		}
	}
	if err := s.run("initdb", "-D", s.data(), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(s.Dir)
		return nil, err
	}
	opts := []string{"-k", s.Dir, "-c", "listen_addresses=", "-c", "max_connections=200", "-c", "shared_buffers=32MB"}
	for _, e := range extra {
		opts = append(opts, "-c", e)
	}
	if err := s.start(opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.Dir, "server.log"))
		s.Stop()
		return nil, fmt.Errorf("%w\n%s", err, log)
	}
	return s, nil
}

// start runs the postmaster as this process's child and waits until it
// accepts connections. The child gets SIGQUIT (PostgreSQL's immediate
// shutdown) when this process dies, however it dies: pg_ctl would detach
// it, and a killed test binary left its server running.
func (s *Server) start(opts []string) error {
	log, err := os.Create(filepath.Join(s.Dir, "server.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), append([]string{"-D", s.data()}, opts...)...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = s.Dir, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGQUIT}
	s.exited = make(chan struct{})
	started := make(chan error, 1)
	go func() {
		// The parent-death signal follows the thread that started the
		// child, not the process: keep that thread for the server's life.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		s.proc = cmd.Process
		started <- nil
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		s.exited = nil
		return fmt.Errorf("postgres: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-s.exited:
			return fmt.Errorf("postgres ended before it accepted connections: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections within a minute: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// removeOrphans removes the directories of servers whose test binary was
// killed: their postmaster has ended with it (or, from before servers were
// children, still runs and is stopped now).
func removeOrphans() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil || time.Since(fi.ModTime()) < orphanAge {
			continue
		}
		if pid := postmasterPID(filepath.Join(d, "data")); pid > 0 && isPostgres(pid) {
			if ownerAlive(pid) {
				continue
			}
			syscall.Kill(pid, syscall.SIGQUIT)
		}
		os.RemoveAll(d)
	}
}

// postmasterPID reads the server's pid from its data directory, 0 when
// there is none.
func postmasterPID(data string) int {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	return pid
}

// isPostgres says whether process pid runs PostgreSQL's server (and not
// another program that was given the pid of a server long gone).
func isPostgres(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return err == nil && strings.TrimSpace(string(b)) == "postgres"
}

// ownerAlive says whether the server process pid still has the test binary
// that started it: a server started as a child has that binary as its
// parent, and a detached one has been reparented to init.
func ownerAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The fields after the command's closing parenthesis: state, ppid, …
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 1 && f[1] != "1"
}

func (s *Server) data() string { return filepath.Join(s.Dir, "data") }

// run runs one of the server's programs as the server's user.
func (s *Server) run(name string, args ...string) error {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.Dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, out)
	}
	return nil
}

// URL returns the connection URL of database db.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres:///%s?host=%s&port=5432&user=postgres&sslmode=disable", db, s.Dir)
}

// Exec runs statements on database db.
func (s *Server) Exec(ctx context.Context, db string, sql ...string) error {
	conn, err := pgx.Connect(ctx, s.URL(db))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, q := range sql {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// Stop stops the server (PostgreSQL's fast shutdown: sessions are ended,
// nothing waits for clients) and removes its directory.
func (s *Server) Stop() error {
	var err error
	if s.exited != nil {
		s.proc.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
		case <-time.After(time.Minute):
			s.proc.Kill()
			<-s.exited
			err = errors.New("postgres did not stop within a minute of its fast shutdown; killed")
		}
	}
	if rmErr := os.RemoveAll(s.Dir); err == nil {
		err = rmErr
	}
	return err
}

// Fast are the settings of the tests' shared server: it does not wait for
// the disk, which only a crash of the machine (never of the engine, which
// the tests do kill) could tell apart. Benchmarks start their own server
// with PostgreSQL's durable defaults.
var Fast = []string{"fsync=off", "synchronous_commit=off", "full_page_writes=off"}

var (
	sharedMu  sync.Mutex
	shared    *Server
	sharedErr error
	dbs       atomic.Int64
)

// Shared returns the test binary's server, starting it on first use. Main
// stops it.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = Start(Fast...)
	}
	if sharedErr != nil {
		tb.Fatalf("start PostgreSQL: %v", sharedErr)
	}
	return shared
}

// NewDatabase creates an empty database on the shared server for one test
// and returns its URL; it is dropped when the test ends.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	s := Shared(tb)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Exec(ctx, "postgres", "CREATE DATABASE "+name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Exec(ctx, "postgres", "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database: %v", err)
		}
	})
	return s.URL(name)
}

// Main runs a package's tests and stops the shared server if they started
// it; call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop PostgreSQL:", err)
		}
		shared = nil
	}
	return code
}
