// Package applog keeps the desktop app's log in the user's state directory
// (~/.local/state/switchboard on Linux), rotated by size so it never grows
// without bound, with secrets masked before a line reaches the disk. Tail
// reads the newest lines back for the "copy diagnostics" action.
package applog

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"gopkg.in/natefinch/lumberjack.v2"
)

// FileName is the current log file's name; rotated files are named
// switchboard-<time>.log.gz beside it.
const FileName = "switchboard.log"

// Log is a rotating log file. Write is safe for concurrent use.
type Log struct {
	dir string
	w   *lumberjack.Logger
}

// Options says how large the log may grow.
type Options struct {
	// MaxSizeMB rotates the file when it passes this size (default 5).
	MaxSizeMB int
	// Backups is how many rotated files to keep (default 3).
	Backups int
}

// DefaultDir is where the log goes: $XDG_STATE_HOME/switchboard (or
// ~/.local/state/switchboard) on Linux, ~/Library/Logs/Switchboard on
// macOS and %LocalAppData%\Switchboard\Logs on Windows.
func DefaultDir() (string, error) {
	switch runtime.GOOS {
	case "windows":
		local, err := os.UserCacheDir() // %LocalAppData%
		if err != nil {
			return "", err
		}
		return filepath.Join(local, "Switchboard", "Logs"), nil
	case "darwin":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Logs", "Switchboard"), nil
	}
	if dir := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "switchboard"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "state", "switchboard"), nil
}

// Open starts (or continues) the log in dir.
func Open(dir string, opts Options) (*Log, error) {
	if opts.MaxSizeMB <= 0 {
		opts.MaxSizeMB = 5
	}
	if opts.Backups <= 0 {
		opts.Backups = 3
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	w := &lumberjack.Logger{Filename: filepath.Join(dir, FileName), MaxSize: opts.MaxSizeMB, MaxBackups: opts.Backups, Compress: true, LocalTime: true}
	return &Log{dir: dir, w: w}, nil
}

// Path is the current log file.
func (l *Log) Path() string { return l.w.Filename }

// Write appends p (one or more whole lines) with secrets masked.
func (l *Log) Write(p []byte) (int, error) {
	if _, err := l.w.Write([]byte(Redact(string(p)))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close closes the current file.
func (l *Log) Close() error { return l.w.Close() }

var secrets = regexp.MustCompile(`(?i)((?:token|password|secret|authorization)["']?\s*[=:]\s*["']?(?:bearer\s+)?)[^\s"'&,}]+|(bearer\s+)[A-Za-z0-9._~+/=-]+`)

var secretWords = []string{"token", "password", "secret", "authorization", "bearer"}

// Redact masks tokens, passwords and bearer credentials in a log line.
func Redact(s string) string {
	lower := strings.ToLower(s)
	if !slices.ContainsFunc(secretWords, func(w string) bool { return strings.Contains(lower, w) }) {
		return s // the common case, without running the expression
	}
	return secrets.ReplaceAllString(s, "$1$2[redacted]")
}

// Tail returns up to n of the newest lines, reading rotated files when the
// current one is shorter than that.
func (l *Log) Tail(n int) ([]string, error) {
	files, err := l.files()
	if err != nil {
		return nil, err
	}
	var lines []string
	for i := len(files) - 1; i >= 0 && len(lines) < n; i-- {
		got, err := readLines(files[i])
		if err != nil {
			return nil, err
		}
		lines = append(got, lines...)
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}

// files lists the rotated files oldest first, then the current one.
func (l *Log) files() ([]string, error) {
	backups, err := filepath.Glob(filepath.Join(l.dir, "switchboard-*.log*"))
	if err != nil {
		return nil, err
	}
	// While lumberjack compresses a rotated file both X.log and a partial
	// X.log.gz exist: read the complete one.
	backups = slices.DeleteFunc(backups, func(name string) bool {
		return strings.HasSuffix(name, ".gz") && slices.Contains(backups, strings.TrimSuffix(name, ".gz"))
	})
	slices.Sort(backups) // the names carry the rotation time, so this is oldest first
	if _, err := os.Stat(l.Path()); err == nil {
		backups = append(backups, l.Path())
	}
	return backups, nil
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // rotated away meanwhile
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}
