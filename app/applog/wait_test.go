package applog_test

import (
	"testing"
	"time"
)

// waitFor polls cond: lumberjack compresses and prunes rotated files in its
// own goroutine, which the test does not control.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for lumberjack to prune rotated files")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
