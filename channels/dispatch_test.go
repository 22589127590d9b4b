package channels_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels"
	"switchboard/channels/internal/hubtest"
	"switchboard/channels/twilio"
	"switchboard/channels/twilio/twiliotest"
)

// smsEnv is a hub with one Twilio number and the fake that signs for it.
func smsEnv(t *testing.T) (*hubtest.Env, func(body string) string) {
	fake := twiliotest.NewServer(crashAccount, crashToken)
	t.Cleanup(fake.Close)
	env := hubtest.New(t, twilio.SMS, "main", map[string]any{"accountSid": crashAccount, "authToken": crashToken, "from": "+15550001234"}, fake.URL)
	send := func(body string) string {
		t.Helper()
		p := fake.InboundParams("+15557654321", "+15550001234", body)
		if st, resp := hubtest.Do(t, fake.WebhookRequest(env.HookURL(twilio.SMS, "main"), p)); st != http.StatusOK {
			t.Fatalf("webhook: %d %s", st, resp)
		}
		return p.Get("MessageSid")
	}
	return env, send
}

// received drains what OnInbound took so far, as external ids.
func received(env *hubtest.Env) []string {
	var out []string
	for {
		select {
		case m := <-env.Inbound:
			out = append(out, m.ExternalID)
		default:
			return out
		}
	}
}

// TestDispatchInbound_ARefusedMessageHoldsTheLine: while the consumer
// refuses a message (its flow is busy elsewhere, the store failed), the
// cursor stays before it and no later message overtakes it; once taken,
// both follow in order, and none is handed over twice.
func TestDispatchInbound_ARefusedMessageHoldsTheLine(t *testing.T) {
	ctx := context.Background()
	env, send := smsEnv(t)
	first, second, third := send("one"), send("two"), send("three")
	refusals := 0
	env.Refuse(func(m *backend.Message) error {
		if m.ExternalID == second && refusals < 3 {
			refusals++
			return backend.Errorf(backend.EUnavailable, "The flow of conversation %s is busy elsewhere.", m.ConversationID)
		}
		return nil
	})
	for i := 1; i <= 3; i++ {
		err := env.Hub.DispatchInbound(ctx)
		if backend.ErrorCode(err) != backend.EUnavailable {
			t.Fatalf("attempt %d: %v, want the refusal", i, err)
		}
		got := received(env)
		if want := map[int]int{1: 1, 2: 0, 3: 0}[i]; len(got) != want || (want == 1 && got[0] != first) {
			t.Fatalf("attempt %d handed over %v", i, got)
		}
	}
	if err := env.Hub.DispatchInbound(ctx); err != nil {
		t.Fatal(err)
	}
	if got := received(env); len(got) != 2 || got[0] != second || got[1] != third {
		t.Fatalf("after the refusals: %v, want [%s %s]", got, second, third)
	}
	if err := env.Hub.DispatchInbound(ctx); err != nil || len(received(env)) != 0 {
		t.Fatalf("a message was handed over twice: %v", err)
	}
}

// TestDispatchInbound_NeverHandledMovesOn: a message its consumer can never
// handle (EInvalid, ENotFound) does not block the ones after it.
func TestDispatchInbound_NeverHandledMovesOn(t *testing.T) {
	env, send := smsEnv(t)
	bad, good := send("orphan"), send("fine")
	env.Refuse(func(m *backend.Message) error {
		if m.ExternalID == bad {
			return backend.Errorf(backend.ENotFound, "Conversation %s does not exist.", m.ConversationID)
		}
		return nil
	})
	if err := env.Hub.DispatchInbound(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := received(env); len(got) != 1 || got[0] != good {
		t.Fatalf("handed over %v, want [%s]", got, good)
	}
}

// TestRunInbound_RetriesOnTheClock: the background dispatcher retries a
// refused message after a wait on the hub's clock.
func TestRunInbound_RetriesOnTheClock(t *testing.T) {
	env, send := smsEnv(t)
	var mu sync.Mutex
	refusing, refused := true, make(chan struct{}, 1)
	env.Refuse(func(*backend.Message) error {
		mu.Lock()
		defer mu.Unlock()
		if refusing {
			select {
			case refused <- struct{}{}:
			default:
			}
			return backend.Errorf(backend.EUnavailable, "busy")
		}
		return nil
	})
	id := send("retry me")
	if err := env.Hub.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer env.Hub.Close()
	select {
	case <-refused:
	case <-time.After(10 * time.Second):
		t.Fatal("the dispatcher never offered the message")
	}
	mu.Lock()
	refusing = false
	mu.Unlock()
	// Only the clock moves the dispatcher on: advance it until the retry.
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case m := <-env.Inbound:
			if m.ExternalID != id {
				t.Fatalf("got %s", m.ExternalID)
			}
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the refused message was never retried")
		}
		env.Clock.Advance(50 * time.Millisecond)
		time.Sleep(time.Millisecond)
	}
}

// TestTakeOverOnStart_InterruptedSendsDoNotWaitForTheLease: a send the
// previous process claimed and never finished is, at the next start, taken
// as interrupted at once; Twilio cannot deduplicate, so it fails as in
// doubt instead of being sent twice, and the conversation's next reply
// goes out.
func TestTakeOverOnStart_InterruptedSendsDoNotWaitForTheLease(t *testing.T) {
	ctx := context.Background()
	env, send := smsEnv(t)
	send("hi")
	in := <-deliverOne(t, env)
	first, _, err := env.DB.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: in.ConversationID, Text: "first", ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	now := env.Clock.Now()
	if _, err := env.DB.EnqueueOutbox(ctx, now); err != nil {
		t.Fatal(err)
	}
	if jobs, err := env.DB.ClaimOutbox(ctx, now, now.Add(2*time.Minute), 10); err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %d jobs, %v", len(jobs), err) // the process dies mid-send
	}
	second, _, err := env.DB.StoreOutbound(ctx, &backend.OutboundMessage{ConversationID: in.ConversationID, Text: "second", ClientID: "c2"})
	if err != nil {
		t.Fatal(err)
	}
	hub, err := channels.NewHub(ctx, env.DB, channels.Options{Clock: env.Clock, BaseURLs: map[string]string{twilio.SMS: env.BaseURL(twilio.SMS)},
		TakeOverOnStart: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, _ := env.DB.FindMessageByID(ctx, first.ID)
		b, _ := env.DB.FindMessageByID(ctx, second.ID)
		if a.Status == backend.DeliveryFailed && b.Status == backend.DeliveryQueued && b.ExternalID != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first %s (%s), second %s: the interrupted send waited for its lease", a.Status, a.Error, b.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// deliverOne hands the stored inbound messages to OnInbound and returns the
// channel they arrive on.
func deliverOne(t *testing.T, env *hubtest.Env) chan *backend.Message {
	t.Helper()
	if err := env.Hub.DispatchInbound(context.Background()); err != nil {
		t.Fatal(err)
	}
	return env.Inbound
}

// TestRunInbound_ConversationsInParallel: while one conversation's message
// is being handled (a slow flow), other conversations go on, each in
// order; a conversation gets at most MaxRedelivered messages ahead of the
// durable cursor, which stays before the slow message until it is done.
func TestRunInbound_ConversationsInParallel(t *testing.T) {
	ctx := context.Background()
	fake := twiliotest.NewServer(crashAccount, crashToken)
	t.Cleanup(fake.Close)
	env := hubtest.New(t, twilio.SMS, "main", map[string]any{"accountSid": crashAccount, "authToken": crashToken, "from": "+15550001234"}, fake.URL)
	send := func(from, body string) string {
		t.Helper()
		p := fake.InboundParams(from, "+15550001234", body)
		if st, resp := hubtest.Do(t, fake.WebhookRequest(env.HookURL(twilio.SMS, "main"), p)); st != http.StatusOK {
			t.Fatalf("webhook: %d %s", st, resp)
		}
		return p.Get("MessageSid")
	}
	slow := send("+15557000001", "slow")
	var fast []string
	for i := range 20 {
		fast = append(fast, send("+15557000002", fmt.Sprintf("fast %d", i)))
	}
	started, hold := make(chan struct{}), make(chan struct{})
	env.Refuse(func(m *backend.Message) error {
		if m.ExternalID == slow {
			close(started)
			<-hold
		}
		return nil
	})
	if err := env.Hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer env.Hub.Close()
	defer func() {
		select {
		case <-hold:
		default:
			close(hold)
		}
	}()
	<-started
	var got []string
	for len(got) < channels.MaxRedelivered {
		got = append(got, (<-env.Inbound).ExternalID)
	}
	deadline := time.Now().Add(10 * time.Second)
	for env.Hub.InboundBacklog().Held != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("backlog %+v: the fast conversation was not held back", env.Hub.InboundBacklog())
		}
		runtime.Gosched()
	}
	if extra := received(env); len(extra) != 0 {
		t.Fatalf("%d more than MaxRedelivered messages went ahead of the cursor", len(extra))
	}
	cursor, err := env.DB.ChannelCursor(ctx, "inbound.dispatch")
	if err != nil {
		t.Fatal(err)
	}
	if msgs, _, _ := env.DB.InboundAfter(ctx, cursor, 1); len(msgs) != 1 || msgs[0].ExternalID != slow {
		t.Fatalf("the cursor moved past the message still being handled")
	}
	close(hold)
	slowDone := false
	for len(got) < 20 || !slowDone {
		m := <-env.Inbound
		if m.ExternalID == slow {
			slowDone = true
			continue
		}
		got = append(got, m.ExternalID)
	}
	if fmt.Sprint(got) != fmt.Sprint(fast) {
		t.Fatalf("the fast conversation's messages came as %v, want %v", got, fast)
	}
}
