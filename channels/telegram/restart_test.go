package telegram_test

import (
	"context"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels/internal/hubtest"
)

func startHub(t *testing.T, env *hubtest.Env) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := env.Hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	hub := env.Hub
	t.Cleanup(func() { cancel(); hub.Close() })
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPolling_CatchesUpAfterARestartAndStopsOnARevokedToken: updates that
// arrive while the engine is stopped are stored once after it starts (the
// offset kept in the store); a token Telegram revoked stops the instance,
// shown in its health.
func TestPolling_CatchesUpAfterARestartAndStopsOnARevokedToken(t *testing.T) {
	env, fake := setup(t, "polling")
	startHub(t, env)
	u1, id1 := fake.TextUpdate(userID, "Ana", "before")
	fake.Queue(u1)
	waitUntil(t, "the first update", func() bool { return len(env.Messages()) == 1 && fake.Pending() == 0 })

	env.Restart()
	u2, id2 := fake.TextUpdate(userID, "Ana", "while stopped")
	u3, id3 := fake.TextUpdate(userID, "Ana", "also while stopped")
	fake.Queue(u2)
	fake.Queue(u3)
	startHub(t, env)
	waitUntil(t, "the updates sent while stopped", func() bool { return len(env.Messages()) >= 3 && fake.Pending() == 0 })
	seen := map[string]int{}
	for _, m := range env.Messages() {
		seen[m.ExternalID]++
	}
	if len(env.Messages()) != 3 || seen[id1] != 1 || seen[id2] != 1 || seen[id3] != 1 {
		t.Fatalf("stored %v", seen)
	}

	fake.RevokeToken()
	var st *backend.ChannelStatus
	waitUntil(t, "the instance to stop", func() bool {
		list, err := env.Hub.Statuses(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		st = list[0]
		if !st.RetryAt.IsZero() && env.Clock.Waiting(st.RetryAt) {
			env.Clock.Advance(st.RetryAt.Sub(env.Clock.Now())) // a long poll that ended: let it poll again
		}
		return st.State == backend.ChannelStopped
	})
	if st.Error == "" {
		t.Fatalf("health %+v", st)
	}
}
