package flow_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/flow"
)

// echoFlow waits for each message and echoes it, forever.
func echoFlow() *backend.Flow {
	return mkflow("wait",
		w("wait", "send-and-wait-for-reply", to("incomingMessage", "echo", "timeout", "end", "failed", "end"), nil),
		msg("echo", "{{message.body}}", to("sent", "wait", "failed", "wait")), endW)
}

// One conversation never runs two steps at once: many goroutines deliver
// messages to the same conversation; the sender sees at most one step in
// flight, and every message is echoed exactly once.
func TestEngine_OneStepAtATimePerConversation(t *testing.T) {
	var inFlight, maxInFlight atomic.Int32
	var mu sync.Mutex
	echoed := map[string]int{}
	eng, err := flow.NewEngine(flow.NewMemStore(), flow.Options{
		Clock: flow.NewFakeClock(t0), DefaultFlow: echoFlow(),
		Sender: flow.SenderFunc(func(_ context.Context, conv *backend.Conversation, text, key string) error {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			if n > maxInFlight.Load() {
				maxInFlight.Store(n)
			}
			time.Sleep(50 * time.Microsecond)
			mu.Lock()
			echoed[text]++
			mu.Unlock()
			return nil
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	conv := &backend.Conversation{ID: "cv_busy", Channel: "webchat", Instance: "site"}
	ctx := context.Background()
	if err := eng.HandleInbound(ctx, &backend.Message{ID: "first", Direction: backend.DirectionIn, Text: "start"}, conv); err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 8, 25
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				text := fmt.Sprintf("g%d-%d", g, i)
				if err := eng.HandleInbound(ctx, &backend.Message{ID: text, Direction: backend.DirectionIn, Text: text}, conv); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if maxInFlight.Load() != 1 {
		t.Fatalf("%d steps ran at once in one conversation", maxInFlight.Load())
	}
	if len(echoed) != goroutines*each {
		t.Fatalf("%d distinct echoes, want %d", len(echoed), goroutines*each)
	}
	for text, n := range echoed {
		if n != 1 {
			t.Fatalf("%q echoed %d times", text, n)
		}
	}
}

// A call event delivered to a wait for a text reply does not move it, nor
// push its deadline back.
func TestEngine_DeliverOtherInputKeepsTheDeadline(t *testing.T) {
	h := newHarness(t, askFlow())
	h.say("hi")
	h.clock.Advance(4 * time.Minute)
	if err := h.eng.Deliver(context.Background(), h.conv, &backend.FlowInput{Kind: backend.InputCall}); err != nil {
		t.Fatal(err)
	}
	if x := h.exec(); x.Status != "waiting" || !x.TimeoutAt.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("after a call event: %s until %v", x.Status, x.TimeoutAt)
	}
	h.clock.Advance(6 * time.Minute)
	if got := h.texts(); !equalStrings(got, []string{"What is your order number?", "No reply, goodbye"}) {
		t.Fatalf("sent %q", got)
	}
	if err := h.eng.Deliver(context.Background(), h.conv, &backend.FlowInput{Kind: backend.InputTimeout}); backend.ErrorCode(err) != backend.EInvalid {
		t.Fatalf("delivering a timeout: %v", err)
	}
}
