package discord_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/channels/discord"
	"switchboard/channels/discord/discordtest"
	"switchboard/channels/internal/hubtest"
	_ "switchboard/channels/webchat"
)

// start starts env's (new) hub until the test ends.
func start(t *testing.T, env *hubtest.Env) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := env.Hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	hub := env.Hub
	t.Cleanup(func() { cancel(); hub.Close() })
}

// storedOnce fails the test unless the store holds each id exactly once.
func storedOnce(t *testing.T, env *hubtest.Env, ids []string) {
	t.Helper()
	seen := map[string]int{}
	for _, m := range env.Messages() {
		seen[m.ExternalID]++
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("message %s stored %d times", id, seen[id])
		}
	}
	if len(env.Messages()) != len(ids) {
		t.Errorf("%d messages stored, want %d", len(env.Messages()), len(ids))
	}
}

// TestGateway_DMsWhileStoppedStoredOnce stops the engine twice while DMs
// arrive: the first time Discord still has the session, which the new
// engine resumes (the Gateway replays the DMs); the second time the
// session expired, so the new engine identifies anew and reads the DMs
// through REST. Each DM is stored once, and shutting down never ends the
// session (close code 1000 or 1001).
func TestGateway_DMsWhileStoppedStoredOnce(t *testing.T) {
	env, fake := setup(t)
	ids := []string{fake.Message("DM1", "", "42", "ana", "before the restart")}
	waitFor(t, "the first DM", func() bool { return count(env) == 1 })

	env.Restart()
	waitFor(t, "the engine's close", func() bool { return !fake.Connected() && fake.LastCloseCode() != 0 })
	if code := fake.LastCloseCode(); code == 1000 || code == 1001 {
		t.Fatalf("shutting down closed the session with %d", code)
	}
	for i := range 3 {
		ids = append(ids, fake.Message(fmt.Sprintf("DM%d", 1+i%2), "", fmt.Sprintf("%d", 42+i%2), "user", fmt.Sprintf("while down %d", i)))
	}
	start(t, env)
	waitFor(t, "the DMs sent while down, resumed", func() bool { return count(env) == len(ids) && fake.Connected() })
	if i, r, _ := fake.Counts(); i != 1 || r != 1 {
		t.Fatalf("identifies %d resumes %d; want the session resumed", i, r)
	}
	storedOnce(t, env, ids)

	env.Restart()
	waitFor(t, "the engine's second close", func() bool { return !fake.Connected() })
	for i := range 3 {
		ids = append(ids, fake.Message(fmt.Sprintf("DM%d", 1+i%2), "", fmt.Sprintf("%d", 42+i%2), "user", fmt.Sprintf("while down again %d", i)))
	}
	fake.ExpireSessions()
	start(t, env)
	waitFor(t, "the DMs sent while down, read through REST", func() bool { return count(env) == len(ids) })
	if i, _, _ := fake.Counts(); i != 2 {
		t.Fatalf("identifies %d; want a new session", i)
	}
	storedOnce(t, env, ids)
}

// TestGateway_EditingAnotherChannelKeepsTheSession: saving another
// instance's settings leaves the Discord connection alone.
func TestGateway_EditingAnotherChannelKeepsTheSession(t *testing.T) {
	env, fake := setup(t)
	env.Add("webchat", "site", map[string]any{"allowedOrigins": []string{"*"}}, "")
	env.Add("webchat", "site", map[string]any{"allowedOrigins": []string{"https://shop.example"}}, "")
	id := fake.Message("DM1", "", "42", "ana", "after the edit")
	waitFor(t, "the DM", func() bool { return count(env) == 1 })
	if i, r, _ := fake.Counts(); fake.Connects() != 1 || i != 1 || r != 0 || fake.LastCloseCode() != 0 {
		t.Fatalf("the session was touched: connects %d identifies %d resumes %d close %d", fake.Connects(), i, r, fake.LastCloseCode())
	}
	storedOnce(t, env, []string{id})
}

// TestGateway_RevokedTokenStops: a token Discord refuses (close 4004 on a
// live session, or 401 on GET /gateway/bot at start) stops the instance,
// which its health shows, instead of identifying again and again.
func TestGateway_RevokedTokenStops(t *testing.T) {
	env, fake := setup(t)
	fake.CloseWith(4004)
	st := waitStopped(t, env)
	if !strings.Contains(st.Error, "4004") {
		t.Fatalf("health %+v", st)
	}
	if i, r, _ := fake.Counts(); i != 1 || r != 0 || fake.Connected() {
		t.Fatalf("after 4004: identifies %d resumes %d", i, r)
	}

	revoked := discordtest.NewServer("the-new-token")
	t.Cleanup(revoked.Close)
	env2 := hubtest.New(t, discord.ID, "bot", map[string]any{"botToken": token}, revoked.URL)
	start(t, env2)
	if st := waitStopped(t, env2); !strings.Contains(st.Error, "401") {
		t.Fatalf("health %+v", st)
	}
	if revoked.Connects() != 0 {
		t.Fatalf("%d Gateway connections with a refused token", revoked.Connects())
	}
}

func waitStopped(t *testing.T, env *hubtest.Env) *backend.ChannelStatus {
	t.Helper()
	var st *backend.ChannelStatus
	waitFor(t, "the instance to stop", func() bool {
		list, err := env.Hub.Statuses(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list {
			if s.Connector == discord.ID {
				st = s
			}
		}
		return st != nil && st.State == backend.ChannelStopped
	})
	return st
}
