package e2etest_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"switchboard/app"
	"switchboard/app/cache"
	"switchboard/backend/secret"
	"switchboard/backend/server"
	"switchboard/channels/twilio/twiliotest"
)

// TestOffline_RepliesDeliveredOnce: the engine stops, the agent sends two
// replies from the desktop, the engine comes back, and the platform
// receives each reply exactly once.
func TestOffline_RepliesDeliveredOnce(t *testing.T) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if os.Getenv("SWITCHBOARD_REQUIRE_KEYRING") != "" {
			t.Fatal("SWITCHBOARD_REQUIRE_KEYRING is set but there is no D-Bus session bus")
		}
		t.Skip("needs a session bus with a keyring (make test runs go test under dbus-run-session)")
	}
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	fake := twiliotest.NewServer(accountSID, authToken)
	defer fake.Close()
	addr, dir := freeAddr(t), t.TempDir()
	key := secret.MustNew()
	open := func() *server.Server {
		e, err := server.Open(ctx, server.Config{
			Addr: addr, DataDir: dir, PasswordCost: 4, Logger: logger, PublicURL: "http://" + addr, SecretKey: key,
			ChannelBaseURLs: map[string]string{"sms.twilio": fake.URL, "whatsapp.twilio": fake.URL},
		})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := open()
	seedWorkspace(t, e)
	// Ben is away, so the customer's request for a person is offered to Ana.
	if _, err := e.Routing.SetWorkerActivity(ctx, "wk_ben", "Offline"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(fake.WebhookRequest(e.URL()+"/hooks/sms.twilio/main", fake.InboundParams("+14155550177", ourNumber, "I want a live agent")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	a := app.New(app.Config{DataDir: t.TempDir(), KeyringService: "switchboard-offline-test", Logger: logger}, "browser")
	if _, err := a.SignIn(app.SignInRequest{Server: e.URL(), Email: "ana@example.com", Password: password}); err != nil {
		t.Fatal(err)
	}
	defer a.SignOut()
	var offers []app.Offer
	waitUntil(t, "the offer", func() bool { offers, _ = a.Offers(); return len(offers) == 1 })
	if err := a.AcceptOffer(offers[0].ReservationID); err != nil {
		t.Fatal(err)
	}
	conv := offers[0].ConversationID
	waitUntil(t, "the conversation in the agent's inbox", func() bool {
		list, _ := a.Conversations(cache.Filter{Scope: cache.ScopeMine, Channel: "sms"})
		return len(list) == 1 && list[0].ID == conv
	})
	before := len(fake.Requests()) // the flow's own answer

	e.Close()
	waitUntil(t, "the app to notice", func() bool { st, _ := a.SyncStatus(); return st.State != cache.StateOnline })
	for _, text := range []string{"Sorry for the wait, first reply", "And a second one"} {
		if _, err := a.SendReply(conv, text); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(fake.Requests()); n != before {
		t.Fatalf("the platform got %d requests while the engine was down", n-before)
	}

	e = open()
	defer e.Close()
	counts := func() map[string]int {
		m := map[string]int{}
		for _, r := range fake.Requests() {
			if body := r.Form.Get("Body"); strings.Contains(body, "first reply") || strings.Contains(body, "second one") {
				m[body]++
			}
		}
		return m
	}
	waitUntil(t, "both replies at the platform", func() bool { return len(counts()) == 2 })
	time.Sleep(500 * time.Millisecond) // room for a duplicate to show up
	for body, n := range counts() {
		if n != 1 {
			t.Fatalf("%q reached the platform %d times", body, n)
		}
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
