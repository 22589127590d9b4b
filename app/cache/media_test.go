package cache_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestMedia_KeepsTheRecentWithinBudget: files come back as kept, opening
// one makes it recent, and the least recently opened leave when the
// budget is full; a file larger than the budget is not kept.
func TestMedia_KeepsTheRecentWithinBudget(t *testing.T) {
	ctx := context.Background()
	c := MustOpenCache(t, filepath.Join(t.TempDir(), "cache.db"))
	defer c.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Now = func() time.Time { now = now.Add(time.Second); return now }
	c.MediaBudget = 300
	kb := func(b byte) []byte { return bytes.Repeat([]byte{b}, 100) }
	for _, p := range []string{"/media/a", "/media/b", "/media/c"} {
		if err := c.PutMedia(ctx, p, "image/png", kb(p[7])); err != nil {
			t.Fatal(err)
		}
	}
	if typ, data, ok, err := c.Media(ctx, "/media/a"); err != nil || !ok || typ != "image/png" || !bytes.Equal(data, kb('a')) {
		t.Fatalf("a: %q %d %v %v", typ, len(data), ok, err)
	}
	if err := c.PutMedia(ctx, "/media/d", "application/pdf", kb('d')); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{"/media/a": true, "/media/b": false, "/media/c": true, "/media/d": true} {
		if _, _, ok, _ := c.Media(ctx, p); ok != want {
			t.Errorf("%s cached=%v, want %v", p, ok, want)
		}
	}
	if err := c.PutMedia(ctx, "/media/huge", "video/mp4", make([]byte, 301)); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := c.Media(ctx, "/media/huge"); ok {
		t.Error("a file larger than the budget was kept")
	}
	if err := c.DropMedia(ctx, "/media/a"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := c.Media(ctx, "/media/a"); ok {
		t.Error("a dropped file is still cached")
	}
}
