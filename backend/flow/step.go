package flow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard/backend"
)

// Step is what a widget sees while it runs: the execution's variables and
// widget outputs, the conversation, and the engine's services. It is valid
// only during Run or Resume.
type Step struct {
	// Widget is the name of the running widget.
	Widget       string
	Conversation *backend.Conversation

	e       *Engine
	x       *backend.FlowExecution
	now     time.Time
	sends   int
	actions []string

	contact       *backend.Contact
	contactLoaded bool
	ctx           context.Context
	// batch is set while the run's replies wait to be saved with the
	// execution in one write (see Engine.batched).
	batch *stepBatch
}

// stepBatch is what a run that saves in one write keeps until its save:
// the bot's replies and the trace. A widget that reaches outside the store
// (a task, an HTTP request, a call) spoils it, and the input is run again
// with the execution claimed first.
type stepBatch struct {
	author  string
	replies []*backend.OutboundMessage
	traces  []TraceStep
	spoiled bool
}

// errBatchSpoiled stops a run that cannot save in one write.
var errBatchSpoiled = errors.New("flow: the step reaches outside the store; claim the execution first")

// spoil marks the run as one that must claim the execution before acting
// outside the store; it reports whether it did.
func (s *Step) spoil() bool {
	if s.batch == nil {
		return false
	}
	s.batch.spoiled = true
	return true
}

// Now returns the engine's time for this step.
func (s *Step) Now() time.Time { return s.now }

// Execution returns the execution's id.
func (s *Step) Execution() string { return s.x.ID }

// Input returns the newest inbound message (nil when the execution started
// without one).
func (s *Step) Input() *backend.FlowInput { return s.x.Message }

// Remaining returns how long a resumed widget still had to wait before
// its timeout (at least a nanosecond; 0 when it had no timeout).
func (s *Step) Remaining() time.Duration {
	if s.x.TimeoutAt.IsZero() {
		return 0
	}
	return max(s.x.TimeoutAt.Sub(s.now), time.Nanosecond)
}

// SetVariable sets {{flow.variables.name}}.
func (s *Step) SetVariable(name string, v any) { s.x.Variables[name] = v }

// SetOutput sets {{widgets.<this widget>.key}}.
func (s *Step) SetOutput(key string, v any) {
	m := s.x.Outputs[s.Widget]
	if m == nil {
		m = map[string]any{}
		s.x.Outputs[s.Widget] = m
	}
	m[key] = v
}

// Output returns what this widget recorded under key in this execution.
func (s *Step) Output(key string) any { return s.x.Outputs[s.Widget][key] }

// Note records an action for the trace, such as `send "hi"`.
func (s *Step) Note(format string, args ...any) {
	if s.e.opts.Trace != nil {
		s.actions = append(s.actions, fmt.Sprintf(format, args...))
	}
}

// Send queues text in the conversation through the engine's Sender, with
// an idempotency key that is the same if the step runs again after a crash.
func (s *Step) Send(ctx context.Context, text string) error {
	s.sends++
	s.Note("send %q", text)
	if s.e.opts.Sender == nil {
		return errors.New("no sender configured")
	}
	key := "flow:" + s.x.ID + ":" + strconv.Itoa(s.x.Steps) + ":" + strconv.Itoa(s.sends)
	if b := s.batch; b != nil {
		b.replies = append(b.replies, &backend.OutboundMessage{ConversationID: s.Conversation.ID, AuthorName: b.author, Text: text, ClientID: key})
		return nil
	}
	return s.e.opts.Sender.Send(ctx, s.Conversation, text, key)
}

// CreateTask hands the conversation to the router.
func (s *Step) CreateTask(ctx context.Context, channel string, attrs map[string]any, priority int) (string, error) {
	s.Note("create task channel=%s priority=%d attributes=%s", channel, priority, toString(attrs))
	if s.e.opts.Tasks == nil {
		return "", errors.New("no task creator configured")
	}
	if s.spoil() {
		return "", errBatchSpoiled
	}
	id, err := s.e.opts.Tasks.CreateTask(ctx, s.Conversation.ID, channel, attrs, priority)
	if err == nil {
		s.x.TaskID = id
	}
	return id, err
}

// HTTP returns the engine's HTTP client.
func (s *Step) HTTP() HTTPDoer {
	if s.spoil() {
		return spoiledDoer{}
	}
	return s.e.opts.HTTP
}

// spoiledDoer refuses the requests of a run that must claim its execution
// before making them.
type spoiledDoer struct{}

func (spoiledDoer) Do(*http.Request) (*http.Response, error) { return nil, errBatchSpoiled }

// Lookup resolves a template path: flow.variables.*, flow.channel,
// flow.instance, trigger.message.*, trigger.request.parameters.*,
// message.*, widgets.<name>.*, contact.* and conversation.*.
func (s *Step) Lookup(path []string) (any, bool) {
	if len(path) == 0 {
		return nil, false
	}
	rest := path[1:]
	switch strings.ToLower(path[0]) {
	case "flow":
		if len(rest) == 0 {
			return nil, false
		}
		switch strings.ToLower(rest[0]) {
		case "variables":
			return walk(s.x.Variables, rest[1:])
		case "sid", "execution":
			return s.x.ID, len(rest) == 1
		case "channel":
			return walk(map[string]any{"address": s.Conversation.Instance, "type": s.Conversation.Channel}, rest[1:])
		case "instance":
			return s.Conversation.Instance, len(rest) == 1
		}
	case "trigger":
		if s.x.Trigger == nil || len(rest) == 0 {
			return nil, false
		}
		switch strings.ToLower(rest[0]) {
		case "message":
			return walk(inputMap(s.x.Trigger, s.Conversation), rest[1:])
		case "request":
			return walk(map[string]any{"parameters": s.x.Trigger.Params}, rest[1:])
		}
	case "message":
		if s.x.Message == nil {
			return nil, false
		}
		return walk(inputMap(s.x.Message, s.Conversation), rest)
	case "widgets":
		if len(rest) == 0 {
			return nil, false
		}
		m, ok := s.x.Outputs[rest[0]]
		if !ok {
			for k, v := range s.x.Outputs {
				if strings.EqualFold(k, rest[0]) {
					m, ok = v, true
					break
				}
			}
		}
		if !ok {
			return nil, false
		}
		return walk(m, rest[1:])
	case "contact":
		return walk(s.contactMap(), rest)
	case "conversation":
		c := s.Conversation
		return walk(map[string]any{"id": c.ID, "channel": c.Channel, "instance": c.Instance, "threadKey": c.ThreadKey,
			"subject": c.Subject}, rest)
	}
	return nil, false
}

func inputMap(in *backend.FlowInput, c *backend.Conversation) map[string]any {
	return map[string]any{"body": in.Body, "messageId": in.MessageID, "from": c.ThreadKey, "channel": c.Channel,
		"instance": c.Instance, "conversationId": c.ID}
}

func (s *Step) contactMap() map[string]any {
	if !s.contactLoaded {
		s.contactLoaded = true
		if s.e.opts.Contacts != nil && s.Conversation.ContactID != "" {
			c, err := s.e.opts.Contacts.FindContactByID(s.ctx, s.Conversation.ContactID)
			if err != nil {
				s.e.log.Warn("flow: find contact", "contact", s.Conversation.ContactID, "error", err)
			}
			s.contact = c
		}
	}
	m := map[string]any{"id": s.Conversation.ContactID, "channel": map[string]any{"address": s.Conversation.ThreadKey}}
	if c := s.contact; c != nil {
		attrs := map[string]any{}
		for k, v := range c.Attributes {
			attrs[k] = v
		}
		m["name"], m["email"], m["phone"], m["attributes"] = c.Name, c.Email, c.Phone, attrs
	}
	return m
}

// run advances x with input in: it resumes the widget x waits at, or runs
// a new execution from its start, and follows transitions until a widget
// waits, ends or hands over. x is changed in place; the caller saves it.
func (e *Engine) run(ctx context.Context, p *Program, x *backend.FlowExecution, conv *backend.Conversation, in *backend.FlowInput, batch *stepBatch) error {
	s := &Step{Conversation: conv, e: e, x: x, now: e.now(), ctx: ctx, batch: batch}
	if in.Kind == backend.InputMessage {
		x.Message = in
	}
	n := p.nodes[x.Widget]
	if n == nil {
		return e.fail(x, fmt.Errorf("widget %q is not in flow revision %d", x.Widget, x.Revision))
	}
	var out Outcome
	var err error
	fresh := x.Steps == 0
	x.Steps++
	ran := 0
	s.Widget = n.w.Name
	switch {
	case fresh:
		out, err = n.impl.Run(ctx, s)
	case in.Kind == backend.InputTimeout:
		if t, ok := n.impl.(TimeoutHandler); ok {
			out, err = t.Timeout(ctx, s)
			break
		}
		s.Note("no reply before the timeout")
		out = Outcome{Event: backend.InputTimeout}
	default:
		w, ok := n.impl.(Waiter)
		if !ok {
			return e.fail(x, fmt.Errorf("widget %q does not wait", n.w.Name))
		}
		out, err = w.Resume(ctx, s, in)
	}
	for {
		if batch != nil && batch.spoiled {
			return errBatchSpoiled
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err() // not the flow's fault: leave it to the lease
			}
			e.trace(s, n, "", backend.FlowFailed, err)
			return e.fail(x, fmt.Errorf("widget %q: %w", n.w.Name, err))
		}
		status := ""
		switch {
		case out.Handoff:
			status = backend.FlowAgent
		case out.End:
			status = backend.FlowEnded
		case out.Wait:
			status = backend.FlowWaiting
		case n.next[out.Event] == "":
			status = backend.FlowEnded
		}
		if status != "" {
			e.trace(s, n, out.Event, status, nil)
			x.Status = status
			x.WaitingSince, x.TimeoutAt = time.Time{}, time.Time{}
			if out.Wait {
				x.WaitingSince = s.now
				if out.Timeout > 0 {
					x.TimeoutAt = s.now.Add(out.Timeout)
				}
			}
			return nil
		}
		e.trace(s, n, out.Event, "", nil)
		if ran++; ran >= e.opts.MaxSteps {
			return e.fail(x, fmt.Errorf("more than %d steps on one input", e.opts.MaxSteps))
		}
		n = p.nodes[n.next[out.Event]]
		x.Widget = n.w.Name
		x.Steps++
		s.Widget, s.sends, s.actions = n.w.Name, 0, nil
		out, err = n.impl.Run(ctx, s)
	}
}

func (e *Engine) fail(x *backend.FlowExecution, err error) error {
	x.Status, x.Error = backend.FlowFailed, err.Error()
	x.WaitingSince, x.TimeoutAt = time.Time{}, time.Time{}
	e.log.Warn("flow failed", "conversation", x.ConversationID, "execution", x.ID, "error", err)
	return nil
}

func (e *Engine) trace(s *Step, n *node, event, status string, err error) {
	if e.opts.Trace == nil {
		return
	}
	t := TraceStep{ConversationID: s.Conversation.ID, Widget: n.w.Name, Type: n.w.Type, Event: event,
		Actions: s.actions, Status: status}
	if err != nil {
		t.Error = err.Error()
	}
	if s.batch != nil {
		s.batch.traces = append(s.batch.traces, t) // shown once the step is saved
		return
	}
	e.opts.Trace(t)
}
