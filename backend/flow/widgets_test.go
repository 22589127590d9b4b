package flow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/flow"
)

// act is one thing that happens to the conversation in a widget test.
type act struct {
	say     string
	advance time.Duration
	request map[string]any // API trigger
}

func say(s string) act               { return act{say: s} }
func advance(d time.Duration) act    { return act{advance: d} }
func request(p map[string]any) act   { return act{request: p} }
func sends(texts ...string) []string { return texts }
func vars(kv ...any) map[string]any  { return pairs(kv) }
func pairs(kv []any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

type widgetCase struct {
	name    string
	flow    *backend.Flow
	setup   func(h *harness)
	acts    []act
	sent    []string
	status  string
	widget  string         // where it stopped ("" to skip)
	vars    map[string]any // expected flow variables (subset)
	tasks   []taskCall
	outputs map[string]any // "widget.key" → value (subset)
}

func runWidgetCases(t *testing.T, cases []widgetCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.flow)
			if tc.setup != nil {
				tc.setup(h)
			}
			for _, a := range tc.acts {
				switch {
				case a.request != nil:
					if err := h.eng.Trigger(context.Background(), h.conv, a.request); err != nil {
						t.Fatal(err)
					}
				case a.advance > 0:
					h.clock.Advance(a.advance)
				default:
					h.say(a.say)
				}
			}
			if got := h.texts(); !equalStrings(got, nonNil(tc.sent)) {
				t.Errorf("sent %q, want %q", got, tc.sent)
			}
			x := h.exec()
			if x.Status != tc.status {
				t.Errorf("status %s (error %q), want %s", x.Status, x.Error, tc.status)
			}
			if tc.widget != "" && x.Widget != tc.widget {
				t.Errorf("widget %s, want %s", x.Widget, tc.widget)
			}
			for k, v := range tc.vars {
				if got := x.Variables[k]; fmt.Sprint(got) != fmt.Sprint(v) {
					t.Errorf("variable %s = %v, want %v", k, got, v)
				}
			}
			for k, v := range tc.outputs {
				name, key, _ := strings.Cut(k, ".")
				if got := x.Outputs[name][key]; fmt.Sprint(got) != fmt.Sprint(v) {
					t.Errorf("output %s = %v, want %v", k, got, v)
				}
			}
			if tc.tasks != nil || len(h.taskCalls()) > 0 {
				if got := h.taskCalls(); !reflect.DeepEqual(got, tc.tasks) {
					t.Errorf("tasks %+v, want %+v", got, tc.tasks)
				}
			}
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func msg(name, body string, next map[string]string) backend.FlowWidget {
	return w(name, "send-message", next, map[string]any{"body": body})
}

var endW = w("end", "end", nil, nil)

func TestWidget_TriggerSendEnd(t *testing.T) {
	runWidgetCases(t, []widgetCase{
		{name: "message runs the incomingMessage transition",
			flow: mkflow("hello", msg("hello", "Hello {{trigger.message.body}}", to("sent", "end", "failed", "end")), endW),
			acts: []act{say("there")}, sent: sends("Hello there"), status: "ended", widget: "end"},
		{name: "API request runs incomingRequest with parameters",
			flow: &backend.Flow{Name: "api", Widgets: []backend.FlowWidget{
				w("trigger", "trigger", to("incomingRequest", "hello"), nil),
				msg("hello", "Your code is {{trigger.request.parameters.code}}", to("sent", "end", "failed", "end")), endW}},
			acts: []act{request(map[string]any{"code": 1234})}, sent: sends("Your code is 1234"), status: "ended"},
		{name: "an unwired trigger event ends at once",
			flow: &backend.Flow{Name: "api", Widgets: []backend.FlowWidget{
				w("trigger", "trigger", to("incomingRequest", "end"), nil), endW}},
			acts: []act{say("hi")}, status: "ended", widget: "trigger"},
		{name: "a failed send takes failed",
			flow: mkflow("hello", msg("hello", "Hello", to("sent", "end", "failed", "sorry")),
				w("sorry", "set-variables", to("next", "end"), map[string]any{"variables": []map[string]string{{"key": "oops", "value": "yes"}}}), endW),
			setup: func(h *harness) { h.sendErr = errBoom },
			acts:  []act{say("hi")}, status: "ended", vars: vars("oops", "yes"), outputs: map[string]any{"hello.error": "boom"}},
		{name: "a body that renders empty takes failed",
			flow: mkflow("hello", msg("hello", "{{flow.variables.nothing}}", to("sent", "end", "failed", "end")), endW),
			acts: []act{say("hi")}, status: "ended", outputs: map[string]any{"hello.error": "empty body"}},
		{name: "after the end a new message starts over",
			flow: mkflow("hello", msg("hello", "Hello {{message.body}}", to("sent", "end", "failed", "end")), endW),
			acts: []act{say("one"), say("two")}, sent: sends("Hello one", "Hello two"), status: "ended"},
	})
}

func askFlow() *backend.Flow {
	return mkflow("ask",
		w("ask", "send-and-wait-for-reply", to("incomingMessage", "thanks", "timeout", "bye", "failed", "end"),
			map[string]any{"body": "What is your order number?", "timeout": 600}),
		msg("thanks", "Thanks, order {{widgets.ask.inbound.body}}", to("sent", "end", "failed", "end")),
		msg("bye", "No reply, goodbye", to("sent", "end", "failed", "end")),
		endW)
}

func TestWidget_SendAndWaitForReply(t *testing.T) {
	runWidgetCases(t, []widgetCase{
		{name: "waits with a timeout", flow: askFlow(), acts: []act{say("hi")},
			sent: sends("What is your order number?"), status: "waiting", widget: "ask"},
		{name: "a reply takes incomingMessage", flow: askFlow(), acts: []act{say("hi"), advance(5 * time.Minute), say("A-42")},
			sent: sends("What is your order number?", "Thanks, order A-42"), status: "ended",
			outputs: map[string]any{"ask.inbound": map[string]any{"body": "A-42", "messageId": "msg_2"}}},
		{name: "no reply takes timeout", flow: askFlow(), acts: []act{say("hi"), advance(10 * time.Minute)},
			sent: sends("What is your order number?", "No reply, goodbye"), status: "ended"},
		{name: "just before the timeout it still waits", flow: askFlow(), acts: []act{say("hi"), advance(10*time.Minute - time.Second)},
			sent: sends("What is your order number?"), status: "waiting"},
		{name: "a reply after the timeout starts a new execution", flow: askFlow(),
			acts: []act{say("hi"), advance(time.Hour), say("A-42")},
			sent: sends("What is your order number?", "No reply, goodbye", "What is your order number?"), status: "waiting"},
		{name: "a failed question takes failed", flow: askFlow(), setup: func(h *harness) { h.sendErr = errBoom },
			acts: []act{say("hi")}, status: "ended", widget: "end"},
		{name: "with no body it only waits",
			flow: mkflow("wait", w("wait", "send-and-wait-for-reply", to("incomingMessage", "echo", "timeout", "end", "failed", "end"), nil),
				msg("echo", "You said {{message.body}}", to("sent", "end", "failed", "end")), endW),
			acts: []act{say("first"), say("second")}, sent: sends("You said second"), status: "ended"},
	})
}

func TestWidget_SendAndWait_DefaultTimeoutIsAnHour(t *testing.T) {
	f := mkflow("wait", w("wait", "send-and-wait-for-reply", to("incomingMessage", "end", "timeout", "end", "failed", "end"), nil), endW)
	h := newHarness(t, f)
	h.say("hi")
	if got := h.exec().TimeoutAt; !got.Equal(t0.Add(time.Hour)) {
		t.Fatalf("timeout at %v, want %v", got, t0.Add(time.Hour))
	}
}

func TestWidget_SetVariables(t *testing.T) {
	setv := func(name, next string, kv ...string) backend.FlowWidget {
		var vs []map[string]string
		for i := 0; i+1 < len(kv); i += 2 {
			vs = append(vs, map[string]string{"key": kv[i], "value": kv[i+1]})
		}
		return w(name, "set-variables", to("next", next), map[string]any{"variables": vs})
	}
	runWidgetCases(t, []widgetCase{
		{name: "sets literals and templates",
			flow: mkflow("a", setv("a", "b", "greeting", "hello", "echo", "{{message.body | upcase}}"),
				setv("b", "out", "both", "{{flow.variables.greeting}} {{flow.variables.echo}}"),
				msg("out", "{{flow.variables.both}}", to("sent", "end", "failed", "end")), endW),
			acts: []act{say("world")}, sent: sends("hello WORLD"), status: "ended",
			vars: vars("greeting", "hello", "echo", "WORLD", "both", "hello WORLD")},
		{name: "reads the conversation and contact",
			flow: mkflow("a", setv("a", "end", "from", "{{contact.channel.address}}", "ch", "{{flow.channel.type}}", "missing", "{{contact.name | default: 'friend'}}"), endW),
			acts: []act{say("x")}, status: "ended", vars: vars("from", "+15550001111", "ch", "sms.twilio", "missing", "friend")},
	})
}

func TestWidget_SendToAgent(t *testing.T) {
	agent := func(props map[string]any) *backend.Flow {
		return mkflow("lang",
			w("lang", "set-variables", to("next", "agent"), map[string]any{"variables": []map[string]string{{"key": "language", "value": "es"}}}),
			w("agent", "send-to-agent", to("failed", "sorry"), props),
			msg("sorry", "No agents", to("sent", "end", "failed", "end")), endW)
	}
	props := map[string]any{"channel": "chat", "priority": "{{flow.variables.prio | default: 5}}", "body": "Connecting you",
		"attributes": map[string]any{"language": "{{flow.variables.language}}", "department": "billing", "vip": true}}
	runWidgetCases(t, []widgetCase{
		{name: "creates a task and hands over", flow: agent(props), acts: []act{say("agent please")},
			sent: sends("Connecting you"), status: "agent", widget: "agent",
			tasks:   []taskCall{{"cv_1", "chat", map[string]any{"language": "es", "department": "billing", "vip": true}, 5}},
			outputs: map[string]any{"agent.taskId": "tk_1"}},
		{name: "messages to an agent's conversation are left alone", flow: agent(props), acts: []act{say("agent"), say("hello?")},
			sent: sends("Connecting you"), status: "agent",
			tasks: []taskCall{{"cv_1", "chat", map[string]any{"language": "es", "department": "billing", "vip": true}, 5}}},
		{name: "a router error takes failed", flow: agent(props), setup: func(h *harness) { h.taskErr = errBoom },
			acts: []act{say("agent")}, sent: sends("No agents"), status: "ended"},
		{name: "defaults: chat, priority 0, no attributes", flow: agent(nil), acts: []act{say("x")}, status: "agent",
			tasks: []taskCall{{"cv_1", "chat", map[string]any{}, 0}}},
	})
}

func TestWidget_End(t *testing.T) {
	runWidgetCases(t, []widgetCase{
		{name: "ends", flow: mkflow("end", endW), acts: []act{say("x")}, status: "ended", widget: "end"},
	})
}

func TestEngine_RedeliveredMessageRunsOnce(t *testing.T) {
	h := newHarness(t, askFlow())
	m := &backend.Message{ID: "msg_a", ConversationID: "cv_1", Direction: backend.DirectionIn, Text: "hi"}
	for range 3 {
		if err := h.eng.HandleInbound(context.Background(), m, h.conv); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.texts(); len(got) != 1 {
		t.Fatalf("sent %q, want one question", got)
	}
	// outbound, private and automatic messages do not run the flow
	h.eng.HandleInbound(context.Background(), &backend.Message{ID: "o", Direction: backend.DirectionOut, Text: "x"}, h.conv)
	h.eng.HandleInbound(context.Background(), &backend.Message{ID: "p", Direction: backend.DirectionIn, Private: true, Text: "x"}, h.conv)
	h.eng.HandleInbound(context.Background(), &backend.Message{ID: "a", Direction: backend.DirectionIn, Automatic: true, Text: "x"}, h.conv)
	if x := h.exec(); x.Status != "waiting" || len(x.Seen) != 1 {
		t.Fatalf("execution %s seen %v", x.Status, x.Seen)
	}
}

func TestEngine_TriggerConflictsWithARunningFlow(t *testing.T) {
	h := newHarness(t, askFlow())
	h.say("hi")
	err := h.eng.Trigger(context.Background(), h.conv, nil)
	if backend.ErrorCode(err) != backend.EConflict {
		t.Fatalf("trigger while waiting: %v, want conflict", err)
	}
}

func TestEngine_MaxStepsStopsARunawayFlow(t *testing.T) {
	// A flow cannot loop without a wait (validation), so a long chain stands in.
	var ws []backend.FlowWidget
	for i := range 20 {
		ws = append(ws, w(fmt.Sprintf("s%d", i), "set-variables", to("next", fmt.Sprintf("s%d", i+1)), nil))
	}
	ws = append(ws, w("s20", "end", nil, nil))
	h := newHarness(t, mkflow("s0", ws...), func(o *flow.Options) { o.MaxSteps = 10 })
	h.say("go")
	if x := h.exec(); x.Status != "failed" || x.Error == "" {
		t.Fatalf("status %s error %q, want failed", x.Status, x.Error)
	}
}

func TestEngine_SetFlowPerInstance(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	rev, err := h.eng.Flow(ctx, "sms.twilio/main")
	if err != nil || rev.Revision != 0 || rev.Flow.Name != "Default" {
		t.Fatalf("flow before set: %+v %v", rev, err)
	}
	custom := mkflow("hello", msg("hello", "Custom hello", to("sent", "end", "failed", "end")), endW)
	if rev, err = h.eng.SetFlow(ctx, "sms.twilio/main", custom); err != nil || rev.Revision != 1 {
		t.Fatalf("set flow: %+v %v", rev, err)
	}
	h.say("hi")
	if got := h.texts(); !equalStrings(got, []string{"Custom hello"}) {
		t.Fatalf("sent %q", got)
	}
	bad := mkflow("nowhere")
	if _, err := h.eng.SetFlow(ctx, "sms.twilio/main", bad); backend.ErrorCode(err) != backend.EInvalid {
		t.Fatalf("set invalid flow: %v, want invalid", err)
	}
	if err := h.eng.DeleteFlow(ctx, "sms.twilio/main"); err != nil {
		t.Fatal(err)
	}
	if rev, _ := h.eng.Flow(ctx, "sms.twilio/main"); rev.Revision != 0 {
		t.Fatalf("after delete revision %d, want the default", rev.Revision)
	}
}

// An execution finishes on the revision it started with.
func TestEngine_ExecutionKeepsItsRevision(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	if _, err := h.eng.SetFlow(ctx, "sms.twilio/main", askFlow()); err != nil {
		t.Fatal(err)
	}
	h.say("hi")
	changed := askFlow()
	changed.Widgets[2] = msg("thanks", "Changed thanks", to("sent", "end", "failed", "end"))
	if _, err := h.eng.SetFlow(ctx, "sms.twilio/main", changed); err != nil {
		t.Fatal(err)
	}
	h.say("A-1")
	if got := h.texts(); got[len(got)-1] != "Thanks, order A-1" {
		t.Fatalf("sent %q, want the first revision's thanks", got)
	}
	b, _ := json.Marshal(h.exec())
	if x := h.exec(); x.Revision != 1 {
		t.Fatalf("execution %s", b)
	}
}
