package flow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/flow"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// sentMsg is one message the fake sender got.
type sentMsg struct {
	Conv, Text, Key string
}

// taskCall is one CreateTask the fake router got.
type taskCall struct {
	Conv, Channel string
	Attrs         map[string]any
	Priority      int
}

// harness runs an engine on a MemStore (or another store) with a fake
// clock, a recording sender and a recording router.
type harness struct {
	tb    testing.TB
	clock *flow.FakeClock
	store backend.FlowService
	eng   *flow.Engine
	conv  *backend.Conversation

	mu      sync.Mutex
	sent    []sentMsg
	keys    map[string]bool
	tasks   []taskCall
	sendErr error
	taskErr error
	n       int
}

type harnessOption func(*flow.Options)

// newHarness starts an engine running def for conversation "cv_1" on
// sms.twilio/main.
func newHarness(tb testing.TB, def *backend.Flow, opts ...harnessOption) *harness {
	tb.Helper()
	return newHarnessOn(tb, flow.NewMemStore(), flow.NewFakeClock(t0), def, opts...)
}

func newHarnessOn(tb testing.TB, store backend.FlowService, clock *flow.FakeClock, def *backend.Flow, opts ...harnessOption) *harness {
	tb.Helper()
	h := &harness{tb: tb, clock: clock, store: store, keys: map[string]bool{},
		conv: &backend.Conversation{ID: "cv_1", ContactID: "ct_1", Channel: "sms.twilio", Instance: "main", ThreadKey: "+15550001111"}}
	o := flow.Options{
		Clock:  h.clock,
		Logger: slog.New(slog.DiscardHandler),
		Sender: flow.SenderFunc(func(_ context.Context, conv *backend.Conversation, text, key string) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.sendErr != nil {
				return h.sendErr
			}
			if h.keys[key] {
				return nil // idempotent, like StoreOutbound with a client id
			}
			h.keys[key] = true
			h.sent = append(h.sent, sentMsg{conv.ID, text, key})
			return nil
		}),
		Tasks: flow.TaskCreatorFunc(func(_ context.Context, conv, channel string, attrs map[string]any, prio int) (string, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.taskErr != nil {
				return "", h.taskErr
			}
			h.tasks = append(h.tasks, taskCall{conv, channel, attrs, prio})
			return fmt.Sprintf("tk_%d", len(h.tasks)), nil
		}),
	}
	if def != nil {
		o.DefaultFlow = def
	}
	for _, f := range opts {
		f(&o)
	}
	eng, err := flow.NewEngine(store, o)
	if err != nil {
		tb.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() })
	h.eng = eng
	return h
}

// say delivers an inbound message to the conversation.
func (h *harness) say(text string) {
	h.tb.Helper()
	if err := h.sayErr(text); err != nil {
		h.tb.Fatalf("say %q: %v", text, err)
	}
}

func (h *harness) sayErr(text string) error {
	h.mu.Lock()
	h.n++
	id := fmt.Sprintf("msg_%d", h.n)
	h.mu.Unlock()
	return h.eng.HandleInbound(context.Background(), &backend.Message{
		ID: id, ConversationID: h.conv.ID, Direction: backend.DirectionIn, Text: text}, h.conv)
}

// texts returns the sent texts in order.
func (h *harness) texts() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []string{}
	for _, m := range h.sent {
		out = append(out, m.Text)
	}
	return out
}

func (h *harness) taskCalls() []taskCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]taskCall(nil), h.tasks...)
}

// exec returns the conversation's execution.
func (h *harness) exec() *backend.FlowExecution {
	h.tb.Helper()
	x, err := h.eng.Execution(context.Background(), h.conv.ID)
	if err != nil {
		h.tb.Fatal(err)
	}
	return x
}

// w builds a widget; props is marshalled to JSON.
func w(name, typ string, next map[string]string, props any) backend.FlowWidget {
	fw := backend.FlowWidget{Name: name, Type: typ, Transitions: next}
	if props != nil {
		b, err := json.Marshal(props)
		if err != nil {
			panic(err)
		}
		fw.Properties = b
	}
	return fw
}

// to is a transition map literal: to("sent", "next_widget", …).
func to(pairs ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

// mkflow builds a flow with a trigger on incoming messages to first.
func mkflow(first string, ws ...backend.FlowWidget) *backend.Flow {
	f := &backend.Flow{Name: "test", Widgets: []backend.FlowWidget{w("trigger", "trigger", to("incomingMessage", first), nil)}}
	f.Widgets = append(f.Widgets, ws...)
	return f
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var errBoom = errors.New("boom")
