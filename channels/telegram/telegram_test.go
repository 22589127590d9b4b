package telegram_test

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels"
	"switchboard/channels/internal/hubtest"
	"switchboard/channels/telegram"
	"switchboard/channels/telegram/telegramtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	botToken = "123456:ABC-DEF"
	secret   = "s3cret_token-1"
	userID   = 123456789
)

func setup(t *testing.T, mode string) (*hubtest.Env, *telegramtest.Server) {
	fake := telegramtest.NewServer(botToken)
	t.Cleanup(fake.Close)
	cfg := map[string]any{"botToken": botToken, "secretToken": secret}
	if mode != "" {
		cfg["mode"], cfg["pollTimeout"] = mode, 1
	}
	env := hubtest.New(t, telegram.ID, "bot", cfg, fake.URL)
	fake.Now = env.Clock.Now
	return env, fake
}

func post(t *testing.T, env *hubtest.Env, secretToken string, body []byte) int {
	t.Helper()
	st, _ := hubtest.Do(t, telegramtest.WebhookRequest(env.HookURL(telegram.ID, "bot"), secretToken, body))
	return st
}

func TestWebhook_OnceOnTheRightContact(t *testing.T) {
	env, fake := setup(t, "")
	body, id := fake.TextUpdate(userID, "Ana", "hi")
	if st := post(t, env, secret, body); st != 200 {
		t.Fatalf("status %d", st)
	}
	post(t, env, secret, body)
	msgs := env.Messages()
	if len(msgs) != 1 || msgs[0].ExternalID != id || msgs[0].Text != "hi" {
		t.Fatalf("messages %+v", msgs)
	}
	if c := env.Contact(msgs[0].ContactID); c.Name != "Ana" || c.Identities[0].ExternalID != "123456789" {
		t.Fatalf("contact %+v", c)
	}
}

func TestWebhook_BadSecretStoresNothing(t *testing.T) {
	env, fake := setup(t, "")
	body, _ := fake.TextUpdate(userID, "Ana", "x")
	if st := post(t, env, "", body); st != http.StatusUnauthorized {
		t.Fatalf("missing: %d", st)
	}
	if st := post(t, env, "wrong", body); st != http.StatusForbidden {
		t.Fatalf("wrong: %d", st)
	}
	if len(env.Messages()) != 0 {
		t.Fatal("stored")
	}
}

func TestReply_SendMessageAndRetryAfter(t *testing.T) {
	env, fake := setup(t, "")
	body, _ := fake.TextUpdate(userID, "Ana", "hi")
	post(t, env, secret, body)
	out := env.Reply(env.Messages()[0], "Hello Ana")
	fake.Fail429(1, 35)
	env.RunOutbox()
	env.Clock.Advance(34 * time.Second)
	env.RunOutbox()
	if n := len(fake.Requests()); n != 1 {
		t.Fatalf("%d calls before retry_after", n)
	}
	env.Clock.Advance(time.Second)
	env.RunOutbox()
	reqs := fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d calls", len(reqs))
	}
	r := reqs[1]
	if r.Method != "sendMessage" || r.Path != "/bot"+botToken+"/sendMessage" || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("call %+v", r)
	}
	var got map[string]any
	json.Unmarshal(r.Body, &got)
	if got["chat_id"] != float64(userID) || got["text"] != "Hello Ana" {
		t.Fatalf("body %s", r.Body)
	}
	if m := env.Message(out.ID); m.Status != backend.DeliverySent || m.ExternalID == "" {
		t.Fatalf("%+v", m)
	}
}

func TestPolling_StoresThenConfirms(t *testing.T) {
	env, fake := setup(t, "polling")
	env.Hub.Start(context.Background())
	defer env.Hub.Close()
	u1, id1 := fake.TextUpdate(userID, "Ana", "one")
	u2, id2 := fake.TextUpdate(userID, "Ana", "two")
	fake.Queue(u1)
	fake.Queue(u2)
	deadline := time.Now().Add(5 * time.Second)
	for len(env.Messages()) < 2 || fake.Pending() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("polled %d messages, %d pending", len(env.Messages()), fake.Pending())
		}
		time.Sleep(10 * time.Millisecond)
	}
	msgs := env.Messages()
	if msgs[0].ExternalID != id1 || msgs[1].ExternalID != id2 {
		t.Fatalf("messages %+v", msgs)
	}
	select {
	case m := <-env.Inbound:
		if m.ExternalID != id1 {
			t.Fatalf("OnInbound got %s first", m.ExternalID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnInbound not called for a polled message")
	}
}

func TestGolden(t *testing.T) {
	hubtest.Golden(t, *update, func(_ string, body []byte) (*channels.Webhook, error) { return telegram.Parse(body) })
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"update_id":1,"message":{"message_id":17,"from":{"id":1,"first_name":"A"},"chat":{"id":1,"type":"private"},"date":1,"text":"hi"}}`))
	f.Add([]byte(`{"update_id":2,"callback_query":{"id":"9","from":{"id":1},"data":"x"}}`))
	f.Add([]byte(`{"update_id":3,"edited_message":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		wh, err := telegram.Parse(body)
		if err == nil {
			for _, m := range wh.Messages {
				if m.ExternalID == "" || m.ExternalUserID == "" {
					t.Fatal("message without ids")
				}
			}
		}
	})
}

func FuzzSecret(f *testing.F) {
	f.Add(secret, secret)
	f.Add("", "")
	f.Add("a", "ab")
	f.Fuzz(func(t *testing.T, s, got string) {
		if telegram.ValidSecret(s, got) != (s != "" && s == got) {
			t.Fatal("secret check disagrees with equality")
		}
	})
}
