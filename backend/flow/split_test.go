package flow_test

import (
	"context"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/flow"
)

// splitFlow routes the first message through one split whose cases each
// send their own name.
func splitFlow(props flow.SplitProperties) *backend.Flow {
	next := to("noMatch", "say_noMatch")
	ws := []backend.FlowWidget{}
	for _, c := range props.Cases {
		next[c.Event] = "say_" + c.Event
		ws = append(ws, msg("say_"+c.Event, c.Event, to("sent", "end", "failed", "end")))
	}
	ws = append(ws, msg("say_noMatch", "noMatch", to("sent", "end", "failed", "end")), endW)
	return mkflow("vars", append([]backend.FlowWidget{
		w("vars", "set-variables", to("next", "split"), map[string]any{"variables": []map[string]string{
			{"key": "age", "value": "42"}, {"key": "limit", "value": "40"}, {"key": "tier", "value": "Gold"}}}),
		w("split", "split", next, props)}, ws...)...)
}

func one(op, value string, values ...string) flow.SplitProperties {
	return flow.SplitProperties{Cases: []flow.SplitCase{{Event: "yes", Condition: flow.Condition{Op: op, Value: value, Values: values}}}}
}

func TestWidget_Split(t *testing.T) {
	type c struct {
		name  string
		props flow.SplitProperties
		body  string
		want  string
	}
	cases := []c{
		{"containsAny word", one("containsAny", "", "agent", "human"), "I want a Human, please", "yes"},
		{"containsAny phrase", one("containsAny", "", "live agent"), "live  agent now", "yes"},
		{"containsAny is whole words", one("containsAny", "", "agent"), "hablar con un agente", "noMatch"},
		{"containsAny phrase needs its words together", one("containsAny", "", "live agent"), "live with an agent", "noMatch"},
		{"containsAny in Chinese", one("containsAny", "", "人工"), "我要人工客服", "yes"},
		{"notContainsAny", one("notContainsAny", "", "agent"), "hello", "yes"},
		{"notContainsAny fails", one("notContainsAny", "", "agent"), "agent", "noMatch"},
		{"contains substring", one("contains", "refund"), "REFUNDS please", "yes"},
		{"notContains", one("notContains", "refund"), "hello", "yes"},
		{"equals ignores case and space", one("equals", "yes"), "  YES ", "yes"},
		{"equals fails", one("equals", "yes"), "yes please", "noMatch"},
		{"notEquals", one("notEquals", "yes"), "no", "yes"},
		{"equalsAny", one("equalsAny", "", "1", "one"), "One", "yes"},
		{"notEqualsAny", one("notEqualsAny", "", "1", "one"), "two", "yes"},
		{"notEqualsAny fails", one("notEqualsAny", "", "1", "one"), "1", "noMatch"},
		{"startsWith", one("startsWith", "order"), "Order 42", "yes"},
		{"notStartsWith", one("notStartsWith", "order"), "my order", "yes"},
		{"regex", one("regex", `^[A-Z]-\d+$`), "A-42", "yes"},
		{"regex fails", one("regex", `^[A-Z]-\d+$`), "a-42", "noMatch"},
		{"isBlank", one("isBlank", ""), "   ", "yes"},
		{"isNotBlank", one("isNotBlank", ""), "x", "yes"},
		{"lt", one("lt", "10"), "9.5", "yes"},
		{"lt fails", one("lt", "10"), "10", "noMatch"},
		{"le", one("le", "10"), "10", "yes"},
		{"gt", one("gt", "10"), "11", "yes"},
		{"ge", one("ge", "10"), "10", "yes"},
		{"eq", one("eq", "10"), "10.0", "yes"},
		{"numeric on text is no match", one("gt", "10"), "eleven", "noMatch"},
		{"numeric against a variable", one("gt", "{{flow.variables.limit}}"), "41", "yes"},
		{"input from a variable", flow.SplitProperties{Input: "{{flow.variables.age}}", Cases: []flow.SplitCase{
			{Event: "adult", Condition: flow.Condition{Op: "ge", Value: "18"}}}}, "whatever", "adult"},
		{"condition with its own input", flow.SplitProperties{Cases: []flow.SplitCase{
			{Event: "gold", Condition: flow.Condition{Input: "{{flow.variables.tier}}", Op: "equals", Value: "gold"}}}}, "x", "gold"},
		{"all conditions must hold", flow.SplitProperties{Cases: []flow.SplitCase{{Event: "both", Conditions: []flow.Condition{
			{Op: "containsAny", Values: []string{"refund"}}, {Input: "{{flow.variables.tier}}", Op: "equals", Value: "silver"}}}}},
			"refund", "noMatch"},
		{"first matching case wins", flow.SplitProperties{Cases: []flow.SplitCase{
			{Event: "a", Condition: flow.Condition{Op: "contains", Value: "x"}},
			{Event: "b", Condition: flow.Condition{Op: "contains", Value: "x"}}}}, "x", "a"},
		{"second case", flow.SplitProperties{Cases: []flow.SplitCase{
			{Event: "a", Condition: flow.Condition{Op: "contains", Value: "x"}},
			{Event: "b", Condition: flow.Condition{Op: "contains", Value: "y"}}}}, "y", "b"},
	}
	var wcs []widgetCase
	for _, tc := range cases {
		wcs = append(wcs, widgetCase{name: tc.name, flow: splitFlow(tc.props), acts: []act{say(tc.body)},
			sent: sends(tc.want), status: "ended", outputs: map[string]any{"split.matched": tc.want}})
	}
	runWidgetCases(t, wcs)
}

func TestWidget_SplitOnContactAttribute(t *testing.T) {
	f := splitFlow(flow.SplitProperties{Input: "{{contact.attributes.tier}}",
		Cases: []flow.SplitCase{{Event: "vip", Condition: flow.Condition{Op: "equalsAny", Values: []string{"gold", "platinum"}}}}})
	h := newHarness(t, f, func(o *flow.Options) {
		o.Contacts = contactFinder(func(id string) (*backend.Contact, error) {
			return &backend.Contact{ID: id, Name: "Ada", Attributes: map[string]string{"tier": "Platinum"}}, nil
		})
	})
	h.say("hello")
	if got := h.texts(); !equalStrings(got, []string{"vip"}) {
		t.Fatalf("sent %q, want vip", got)
	}
}

type contactFinder func(id string) (*backend.Contact, error)

func (f contactFinder) FindContactByID(_ context.Context, id string) (*backend.Contact, error) {
	return f(id)
}

func faqFlow() *backend.Flow {
	return mkflow("faq",
		w("faq", "faq-bot", to("answered", "wait", "noMatch", "wait", "handover", "agent"), flow.FAQProperties{
			Entries: []flow.FAQEntry{
				{Patterns: []string{"hi", "hello"}, Answer: "Hello!"},
				{Patterns: []string{"opening hours", "hours"}, Answer: "9 to 5"},
				{Regex: `(?i)\border\s+\d+`, Answer: "Looking up your order"},
			},
			Fallback: "Sorry?",
		}),
		w("wait", "send-and-wait-for-reply", to("incomingMessage", "faq", "timeout", "end", "failed", "end"), map[string]any{"timeout": 60}),
		w("agent", "send-to-agent", to("failed", "end"), map[string]any{"attributes": map[string]any{"reason": "faq"}}),
		endW)
}

func TestWidget_FAQBot(t *testing.T) {
	runWidgetCases(t, []widgetCase{
		{name: "answers", flow: faqFlow(), acts: []act{say("hi")}, sent: sends("Hello!"), status: "waiting", widget: "wait",
			outputs: map[string]any{"faq.answer": "Hello!", "faq.misses": 0}},
		{name: "best match wins", flow: faqFlow(), acts: []act{say("hi, what are your opening hours?")}, sent: sends("9 to 5"), status: "waiting"},
		{name: "regex entry", flow: faqFlow(), acts: []act{say("where is Order 123")}, sent: sends("Looking up your order"), status: "waiting"},
		{name: "one miss sends the fallback", flow: faqFlow(), acts: []act{say("blah")}, sent: sends("Sorry?"), status: "waiting",
			outputs: map[string]any{"faq.misses": 1}},
		{name: "two misses in a row hand over", flow: faqFlow(), acts: []act{say("blah"), say("blah blah")},
			sent: sends("Sorry?"), status: "agent", tasks: []taskCall{{"cv_1", "chat", map[string]any{"reason": "faq"}, 0}}},
		{name: "an answer resets the misses", flow: faqFlow(), acts: []act{say("blah"), say("hello"), say("blah")},
			sent: sends("Sorry?", "Hello!", "Sorry?"), status: "waiting", outputs: map[string]any{"faq.misses": 1}},
		{name: "silence after an answer ends", flow: faqFlow(), acts: []act{say("hello"), advance(time.Minute)},
			sent: sends("Hello!"), status: "ended"},
	})
}
