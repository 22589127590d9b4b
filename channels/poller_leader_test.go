package channels_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"

	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/sqlite"
	"switchboard/channels"
)

// sessions counts the open sessions of test.session instances.
var sessions atomic.Int32

// sessionPoller holds one platform session per Poll until it is stopped.
type sessionPoller struct{ scriptedPoller }

func init() {
	channels.Register(channels.Info{ID: "test.session", New: func(channels.Params) (channels.Connector, error) {
		return sessionPoller{}, nil
	}})
}

func (sessionPoller) Poll(ctx context.Context, link channels.PollLink) error {
	sessions.Add(1)
	defer sessions.Add(-1)
	link.Connected()
	<-ctx.Done()
	return ctx.Err()
}

// TestPoller_ManualRunsOnlyWhileHeld: with ManualPollers (several nodes,
// where only the routing leader polls) a started hub opens no platform
// session until RunPollers, closes it when RunPollers' context ends, opens
// it again for the next holder, and Close ends it too.
func TestPoller_ManualRunsOnlyWhileHeld(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "engine.db"))
	db.Secrets = secret.MustNew()
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PutChannelInstance(ctx, &backend.ChannelInstance{Connector: "test.session", Instance: "main", Config: []byte(`{}`), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	hub, err := channels.NewHub(ctx, db, channels.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ManualPollers: true, ManualInbound: true, ManualOutbox: true, ManualMedia: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Close() })
	// The hub started every instance it runs; a poller would have opened
	// its session by the time its health says running.
	waitUntil(t, "the instance to run", func() bool {
		list, err := hub.Statuses(ctx, "")
		return err == nil && len(list) == 1 && list[0].State == backend.ChannelRunning
	})
	if n := sessions.Load(); n != 0 {
		t.Fatalf("%d sessions open before RunPollers", n)
	}
	for term := 1; term <= 2; term++ {
		lead, resign := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); hub.RunPollers(lead) }()
		waitUntil(t, "the holder's session", func() bool { return sessions.Load() == 1 })
		resign()
		<-done
		if n := sessions.Load(); n != 0 {
			t.Fatalf("term %d: %d sessions open after RunPollers returned", term, n)
		}
	}
	done := make(chan struct{})
	go func() { defer close(done); hub.RunPollers(ctx) }()
	waitUntil(t, "the last holder's session", func() bool { return sessions.Load() == 1 })
	hub.Close()
	<-done
	if n := sessions.Load(); n != 0 {
		t.Fatalf("%d sessions open after Close", n)
	}
}
