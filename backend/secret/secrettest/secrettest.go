// Package secrettest checks a real data directory for what must never be
// on disk: secrets in clear, and files or directories other users may read.
package secrettest

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Found returns the files under dir whose bytes contain secret.
func Found(tb testing.TB, dir string, secret []byte) []string {
	tb.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, secret) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return found
}

// AssertNotOnDisk fails the test for every secret found in a file under dir.
func AssertNotOnDisk(tb testing.TB, dir string, secrets ...string) {
	tb.Helper()
	for _, s := range secrets {
		if files := Found(tb, dir, []byte(s)); len(files) > 0 {
			tb.Errorf("secret %q is in clear in %v", s, files)
		}
	}
}

// AssertPrivate fails the test for every file under dir (dir included)
// that is not 0600 (files) or 0700 (directories), and returns how many
// files it checked.
func AssertPrivate(tb testing.TB, dir string) int {
	tb.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			n++
		}
		if info.Mode().Perm() != want {
			tb.Errorf("%s has mode %v, want %v", path, info.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
