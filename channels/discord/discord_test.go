package discord_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels/discord"
	"switchboard/channels/discord/discordtest"
	"switchboard/channels/internal/hubtest"
)

const token = "bot-token-1"

func init() { discord.FastWaits() }

func setup(t *testing.T, guilds ...string) (*hubtest.Env, *discordtest.Server) {
	t.Helper()
	fake := discordtest.NewServer(token)
	t.Cleanup(fake.Close)
	env := hubtest.New(t, discord.ID, "bot", map[string]any{"botToken": token, "guildChannels": guilds}, fake.URL)
	ctx, cancel := context.WithCancel(context.Background())
	if err := env.Hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); env.Hub.Close() })
	waitFor(t, "identify", func() bool { n, _, _ := fake.Counts(); return n == 1 && fake.Connected() })
	return env, fake
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func count(env *hubtest.Env) int { return len(env.Messages()) }

func TestGateway_DMBecomesOneMessage(t *testing.T) {
	env, fake := setup(t, "G-CHAN")
	id := fake.Message("DM1", "", "42", "ana", "hello")
	fake.Message("DM1", "", discordtest.BotID, "switchboard", "my own echo")
	fake.Message("OTHER", "guild1", "42", "ana", "not a configured channel")
	fake.Message("G-CHAN", "guild1", "43", "bo", "configured guild channel")
	waitFor(t, "2 messages", func() bool { return count(env) == 2 })
	time.Sleep(50 * time.Millisecond)
	msgs := env.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	var dm *backend.Message
	for _, m := range msgs {
		if m.ExternalID == id {
			dm = m
		}
	}
	if dm == nil || dm.Text != "hello" {
		t.Fatalf("messages %+v", msgs)
	}
	if c := env.Contact(dm.ContactID); c.Name != "ana" || c.Identities[0].ExternalID != "42" {
		t.Fatalf("contact %+v", c)
	}
}

// TestGateway_NothingLostOrDuplicated sends messages across every kind of
// reconnect and counts them in the store.
func TestGateway_NothingLostOrDuplicated(t *testing.T) {
	env, fake := setup(t)
	sent := 0
	burst := func() {
		for i := 0; i < 5; i++ {
			fake.Message(fmt.Sprintf("DM%d", i%3), "", fmt.Sprintf("%d", 50+i%3), "user", fmt.Sprintf("m%d", sent))
			sent++
		}
	}
	// after waits until the client is connected again with more identifies
	// or resumes than before the fault.
	after := func(what string, identify bool, fault func()) {
		i0, r0, _ := fake.Counts()
		fault()
		defer func() {
			i, r, h := fake.Counts()
			t.Logf("%s: identifies %d→%d resumes %d→%d hb %d conn %v", what, i0, i, r0, r, h, fake.Connected())
		}()
		waitFor(t, what, func() bool {
			i, r, _ := fake.Counts()
			if identify {
				return i > i0 && fake.Connected()
			}
			return i == i0 && r > r0 && fake.Connected()
		})
	}
	burst()
	after("resume after drop", false, func() {
		fake.Drop() // no close frame
		burst()     // sent while disconnected: replayed on resume
	})
	burst()
	after("resume after op 7", false, fake.Reconnect)
	burst()
	after("resume after op 9 true", false, func() { fake.InvalidSession(true) })
	burst()
	after("resume after a missed ACK", false, func() {
		// Zombie: a heartbeat goes unanswered until the next one is due;
		// the client must notice and resume. Heartbeats run on the
		// engine's clock, so only this step sends any.
		fake.SkipACKs(true)
		_, r0, h0 := fake.Counts()
		waitFor(t, "an unanswered heartbeat, then a resume", func() bool {
			env.Clock.Advance(fake.HeartbeatInterval)
			_, r, h := fake.Counts()
			return h > h0 && r > r0
		})
		fake.SkipACKs(false)
	})
	if code := fake.LastCloseCode(); code == 1000 || code == 1001 || code == 0 {
		t.Fatalf("zombie close code %d", code)
	}
	burst()
	after("resume after 4000", false, func() { fake.CloseWith(4000) })
	burst()
	waitFor(t, "all before re-identify", func() bool { return count(env) == sent })
	after("identify after op 9 false", true, func() { fake.InvalidSession(false) })
	burst()
	after("identify after 4009", true, func() { fake.CloseWith(4009) })
	burst()
	waitFor(t, fmt.Sprintf("%d messages", sent), func() bool { return count(env) >= sent })
	time.Sleep(100 * time.Millisecond)
	seen := map[string]bool{}
	for _, m := range env.Messages() {
		if seen[m.ExternalID] {
			t.Fatalf("duplicate %s", m.ExternalID)
		}
		seen[m.ExternalID] = true
	}
	if len(seen) != sent {
		t.Fatalf("stored %d of %d", len(seen), sent)
	}
	t.Logf("%d messages across 8 reconnects: %d stored, 0 duplicates", sent, len(seen))
}

func TestSend_ReplyAndRateLimit(t *testing.T) {
	env, fake := setup(t)
	fake.Message("DM1", "", "42", "ana", "hi")
	waitFor(t, "inbound", func() bool { return count(env) == 1 })
	in := env.Messages()[0]
	out := env.Reply(in, "Hello Ana")
	fake.Fail429(1, 2.5)
	env.RunOutbox()
	if m := env.Message(out.ID); m.Status != backend.DeliveryQueued || len(fake.Sent()) != 0 {
		t.Fatalf("after 429: %s, %d sent", m.Status, len(fake.Sent()))
	}
	env.Clock.Advance(2 * time.Second) // not yet
	env.RunOutbox()
	if len(fake.Sent()) != 0 {
		t.Fatal("sent before retry_after")
	}
	env.Clock.Advance(time.Second)
	env.RunOutbox()
	s := fake.Sent()
	if len(s) != 1 || s[0].ChannelID != "DM1" || s[0].Content != "Hello Ana" {
		t.Fatalf("sent %+v", s)
	}
	if m := env.Message(out.ID); m.Status != backend.DeliverySent || m.ExternalID != s[0].ID {
		t.Fatalf("message %+v", m)
	}
}

func TestSend_LongReplyInParts(t *testing.T) {
	env, fake := setup(t)
	fake.Message("DM1", "", "42", "ana", "hi")
	waitFor(t, "inbound", func() bool { return count(env) == 1 })
	long := make([]byte, 4500)
	for i := range long {
		long[i] = 'a' + byte(i%26)
	}
	out := env.Reply(env.Messages()[0], string(long))
	env.RunOutbox()
	if m := env.Message(out.ID); m.Status != backend.DeliverySent {
		t.Fatalf("after one pass: %s", m.Status)
	}
	s := fake.Sent()
	if len(s) != 3 || s[0].Content+s[1].Content+s[2].Content != string(long) {
		t.Fatalf("%d parts", len(s))
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{
		`{"op":0,"s":3,"t":"MESSAGE_CREATE","d":{"id":"1","channel_id":"2","author":{"id":"3","username":"a"},"content":"hi","timestamp":"2026-01-02T03:04:05.678000+00:00","type":0,"attachments":[{"id":"9","filename":"a.png","size":3,"url":"https://cdn/a.png","content_type":"image/png"}]}}`,
		`{"op":0,"s":4,"t":"MESSAGE_CREATE","d":{"id":"1","channel_id":"2","guild_id":"5","author":{"id":"3","bot":true}}}`,
		`{"op":10,"d":{"heartbeat_interval":41250}}`,
		`{"op":9,"d":false}`, `{"op":11}`, `{"op":99}`, `[]`, `{"op":0,"d":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := discord.DecodePayload(b)
		if err != nil || p.Op != 0 || p.T != "MESSAGE_CREATE" {
			return
		}
		in, err := discord.NormalizeMessage(p.D, "bot", map[string]bool{"2": true})
		if err != nil || in == nil {
			return
		}
		if in.ExternalID == "" || in.ThreadKey == "" || in.ExternalUserID == "" || in.ExternalUserID == "bot" {
			t.Fatalf("normalized %+v", in)
		}
		if !json.Valid(in.Raw) {
			t.Fatal("raw is not JSON")
		}
	})
}
