package applog_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"switchboard/app/applog"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`level=INFO msg="signed in" token=abc.def-123`, `level=INFO msg="signed in" token=[redacted]`},
		{`Authorization: Bearer eyJhbGciOi.x.y`, `Authorization: Bearer [redacted]`},
		{`url=http://127.0.0.1:5000/?token=s3cr3t&x=1`, `url=http://127.0.0.1:5000/?token=[redacted]&x=1`},
		{`{"email":"a@b.c","password":"hunter2"}`, `{"email":"a@b.c","password":"[redacted]"}`},
		{`sent via bearer QWERTY`, `sent via bearer [redacted]`},
		{`level=INFO msg="inbox shown" conversations=3`, `level=INFO msg="inbox shown" conversations=3`},
	} {
		if got := applog.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLog_WritesRedactedLinesAndTailsThem(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	l, err := applog.Open(dir, applog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 10 {
		fmt.Fprintf(l, "line %d token=secret-%d\n", i, i)
	}
	got, err := l.Tail(3)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"line 7 token=[redacted]", "line 8 token=[redacted]", "line 9 token=[redacted]"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("Tail(3) = %q, want %q", got, want)
	}
	b, _ := os.ReadFile(l.Path())
	if strings.Contains(string(b), "secret-") {
		t.Fatal("a secret reached the log file")
	}
	info, _ := os.Stat(dir)
	if info.Mode().Perm() != 0o700 {
		t.Fatalf("log directory mode %v, want 0700", info.Mode().Perm())
	}
}

func TestLog_RotatesBySizeAndTailReadsAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	l, err := applog.Open(dir, applog.Options{MaxSizeMB: 1, Backups: 2})
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", 1000)
	const total = 3500 // ~3.5 MB: three rotations
	for i := range total {
		fmt.Fprintf(l, "%05d %s\n", i, line)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(l.Path())
	if err != nil || info.Size() > 1<<20 {
		t.Fatalf("current log %v bytes (%v), want at most 1 MiB", info.Size(), err)
	}
	// lumberjack removes backups beyond the limit in the background.
	waitFor(t, func() bool {
		gz, _ := filepath.Glob(filepath.Join(dir, "switchboard-*.log.gz"))
		plain, _ := filepath.Glob(filepath.Join(dir, "switchboard-*.log"))
		return len(gz) == 2 && len(plain) == 0
	})
	got, err := l.Tail(1500) // more than the current file holds
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1500 {
		t.Fatalf("Tail(1500) gave %d lines", len(got))
	}
	for i, s := range got {
		if want := fmt.Sprintf("%05d ", total-1500+i); !strings.HasPrefix(s, want) {
			t.Fatalf("line %d = %.12q…, want it to start %q: lines out of order or lost", i, s, want)
		}
	}
}

func TestDefaultDir_FollowsXDGStateHome(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("XDG directories are for Linux and other freedesktop systems")
	}
	t.Setenv("XDG_STATE_HOME", "/tmp/state-home")
	if dir, err := applog.DefaultDir(); err != nil || dir != "/tmp/state-home/switchboard" {
		t.Fatalf("DefaultDir() = %q, %v", dir, err)
	}
	t.Setenv("XDG_STATE_HOME", "relative/ignored")
	t.Setenv("HOME", "/home/ana")
	if dir, _ := applog.DefaultDir(); dir != "/home/ana/.local/state/switchboard" {
		t.Fatalf("DefaultDir() = %q", dir)
	}
}
