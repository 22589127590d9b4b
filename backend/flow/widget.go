package flow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"switchboard/backend"
)

// WidgetType compiles the widgets of one type. The engine keeps a Registry
// of them, so voice widgets (say/play, gather, record, enqueue) join by
// adding entries.
type WidgetType interface {
	// Compile checks a widget's properties and returns its runnable form.
	// Its error is a sentence for the person editing the flow.
	Compile(w *backend.FlowWidget) (Widget, error)
}

// WidgetTypeFunc adapts a function to WidgetType.
type WidgetTypeFunc func(w *backend.FlowWidget) (Widget, error)

// Compile calls f(w).
func (f WidgetTypeFunc) Compile(w *backend.FlowWidget) (Widget, error) { return f(w) }

// Widget is a compiled widget. It must not keep per-execution state: one
// compiled flow serves every conversation at once; state goes through Step.
type Widget interface {
	// Events lists the transitions the widget can take. Each must be
	// wired to a widget unless the widget reports it Optional.
	Events() []string
	// Run executes the widget when an execution enters it.
	Run(ctx context.Context, s *Step) (Outcome, error)
}

// Waiter is a widget that suspends the execution (Outcome.Wait) until input
// arrives. A loop in a flow must pass through a Waiter.
type Waiter interface {
	Widget
	// Resume is called with the input (an inbound message, a call event)
	// that arrived while the execution waited at this widget. Timeouts
	// do not call Resume: the engine takes the "timeout" transition.
	Resume(ctx context.Context, s *Step, in *backend.FlowInput) (Outcome, error)
}

// TimeoutHandler is a Waiter that decides itself what its timeout means
// (a gather replays its prompt while retries are left); others take their
// "timeout" transition.
type TimeoutHandler interface {
	Waiter
	Timeout(ctx context.Context, s *Step) (Outcome, error)
}

// Optionaler is implemented by widgets some of whose events may stay
// unwired; taking an unwired event ends the execution.
type Optionaler interface {
	Optional(event string) bool
}

// Outcome is what running a widget decided.
type Outcome struct {
	// Event names the transition to follow.
	Event string
	// Wait suspends the execution at this widget until Resume or, when
	// Timeout is positive, until Timeout has passed.
	Wait    bool
	Timeout time.Duration
	// Handoff ends the execution with the conversation in an agent's hands.
	Handoff bool
	// End ends the execution.
	End bool
}

// Registry maps widget types to their implementations.
type Registry map[string]WidgetType

// Widget type names.
const (
	TypeTrigger      = "trigger"
	TypeSplit        = "split"
	TypeSendMessage  = "send-message"
	TypeSendAndWait  = "send-and-wait-for-reply"
	TypeSetVariables = "set-variables"
	TypeHTTP         = "make-http-request"
	TypeFAQ          = "faq-bot"
	TypeSendToAgent  = "send-to-agent"
	TypeEnd          = "end"
)

// DefaultRegistry returns a new registry holding the built-in widget types;
// callers may add their own to it.
func DefaultRegistry() Registry {
	return Registry{
		TypeTrigger:      WidgetTypeFunc(compileTrigger),
		TypeSplit:        WidgetTypeFunc(compileSplit),
		TypeSendMessage:  WidgetTypeFunc(compileSendMessage),
		TypeSendAndWait:  WidgetTypeFunc(compileSendAndWait),
		TypeSetVariables: WidgetTypeFunc(compileSetVariables),
		TypeHTTP:         WidgetTypeFunc(compileHTTP),
		TypeFAQ:          WidgetTypeFunc(compileFAQ),
		TypeSendToAgent:  WidgetTypeFunc(compileSendToAgent),
		TypeEnd:          WidgetTypeFunc(compileEnd),
		// business-hours is Switchboard's own: Studio does the same with a
		// Function and a split.
		TypeBusinessHours: WidgetTypeFunc(compileBusinessHours),
	}
}

// DecodeProperties decodes a widget's properties into v strictly: an
// unknown field is an error, so a typo does not silently do nothing.
func DecodeProperties(w *backend.FlowWidget, v any) error {
	if len(bytes.TrimSpace(w.Properties)) == 0 || string(bytes.TrimSpace(w.Properties)) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(w.Properties))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("properties: %v", err)
	}
	return nil
}

// trigger starts an execution; its events are the kinds of input.
type trigger struct{}

func compileTrigger(w *backend.FlowWidget) (Widget, error) {
	var p struct{}
	return trigger{}, DecodeProperties(w, &p)
}

func (trigger) Events() []string {
	return []string{backend.InputMessage, backend.InputCall, backend.InputRequest}
}
func (trigger) Optional(string) bool { return true }
func (trigger) Run(_ context.Context, s *Step) (Outcome, error) {
	return Outcome{Event: s.x.Trigger.Kind}, nil
}

// end finishes the execution.
type end struct{}

func compileEnd(w *backend.FlowWidget) (Widget, error) {
	var p struct{}
	return end{}, DecodeProperties(w, &p)
}

func (end) Events() []string                            { return nil }
func (end) Run(context.Context, *Step) (Outcome, error) { return Outcome{End: true}, nil }
