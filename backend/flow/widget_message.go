package flow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard/backend"
)

// Events of the messaging widgets.
const (
	EventSent     = "sent"
	EventFailed   = "failed"
	EventNext     = "next"
	EventIncoming = backend.InputMessage
	EventTimeout  = backend.InputTimeout
)

// DefaultReplyTimeout is how long send-and-wait-for-reply waits when its
// timeout is not set (Studio's default).
const DefaultReplyTimeout = time.Hour

// sendMessage sends a message and moves on: sent or failed.
type sendMessage struct{ body *Template }

func compileSendMessage(w *backend.FlowWidget) (Widget, error) {
	var p struct {
		Body string `json:"body"`
	}
	if err := DecodeProperties(w, &p); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.Body) == "" {
		return nil, errors.New("a message body is required")
	}
	t, err := ParseTemplate(p.Body)
	if err != nil {
		return nil, err
	}
	return &sendMessage{body: t}, nil
}

func (*sendMessage) Events() []string { return []string{EventSent, EventFailed} }

func (w *sendMessage) Run(ctx context.Context, s *Step) (Outcome, error) {
	return Outcome{Event: sendEvent(ctx, s, w.body.Render(s))}, nil
}

// sendEvent sends text and returns sent or failed. An empty text (a
// template that rendered to nothing) counts as failed.
func sendEvent(ctx context.Context, s *Step, text string) string {
	if strings.TrimSpace(text) == "" {
		s.Note("nothing to send: the body rendered empty")
		s.SetOutput("error", "empty body")
		return EventFailed
	}
	if err := s.Send(ctx, text); err != nil {
		s.Note("send failed: %v", err)
		s.SetOutput("error", err.Error())
		return EventFailed
	}
	return EventSent
}

// sendAndWait sends an optional question and waits for the reply or the
// timeout. The reply is {{widgets.name.inbound.body}}.
type sendAndWait struct {
	body    *Template // nil: only wait
	timeout time.Duration
}

func compileSendAndWait(w *backend.FlowWidget) (Widget, error) {
	var p struct {
		Body string `json:"body"`
		// Timeout is in seconds (0: DefaultReplyTimeout).
		Timeout int `json:"timeout"`
	}
	if err := DecodeProperties(w, &p); err != nil {
		return nil, err
	}
	if p.Timeout < 0 {
		return nil, fmt.Errorf("timeout %d is negative", p.Timeout)
	}
	sw := &sendAndWait{timeout: time.Duration(p.Timeout) * time.Second}
	if sw.timeout == 0 {
		sw.timeout = DefaultReplyTimeout
	}
	if strings.TrimSpace(p.Body) != "" {
		t, err := ParseTemplate(p.Body)
		if err != nil {
			return nil, err
		}
		sw.body = t
	}
	return sw, nil
}

func (*sendAndWait) Events() []string { return []string{EventIncoming, EventTimeout, EventFailed} }

func (w *sendAndWait) Run(ctx context.Context, s *Step) (Outcome, error) {
	if w.body != nil {
		if ev := sendEvent(ctx, s, w.body.Render(s)); ev == EventFailed {
			return Outcome{Event: EventFailed}, nil
		}
	}
	s.Note("wait for a reply (timeout %s)", w.timeout)
	return Outcome{Wait: true, Timeout: w.timeout}, nil
}

func (w *sendAndWait) Resume(_ context.Context, s *Step, in *backend.FlowInput) (Outcome, error) {
	if in.Kind != backend.InputMessage { // not a reply: keep waiting until the same deadline
		return Outcome{Wait: true, Timeout: s.Remaining()}, nil
	}
	s.SetOutput("inbound", map[string]any{"body": in.Body, "messageId": in.MessageID})
	s.Note("reply %q", in.Body)
	return Outcome{Event: EventIncoming}, nil
}

// setVariables sets flow variables from templates.
type setVariables struct {
	vars []setVar
}

type setVar struct {
	key   string
	value *Template
}

func compileSetVariables(w *backend.FlowWidget) (Widget, error) {
	var p struct {
		Variables []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"variables"`
	}
	if err := DecodeProperties(w, &p); err != nil {
		return nil, err
	}
	sv := &setVariables{}
	for _, v := range p.Variables {
		if !widgetName.MatchString(v.Key) {
			return nil, fmt.Errorf("variable name %q is not 1 to 64 letters, digits, _ or -", v.Key)
		}
		t, err := ParseTemplate(v.Value)
		if err != nil {
			return nil, err
		}
		sv.vars = append(sv.vars, setVar{key: v.Key, value: t})
	}
	return sv, nil
}

func (*setVariables) Events() []string { return []string{EventNext} }

func (w *setVariables) Run(_ context.Context, s *Step) (Outcome, error) {
	for _, v := range w.vars {
		val := v.value.Render(s)
		s.SetVariable(v.key, val)
		s.Note("set %s = %q", v.key, val)
	}
	return Outcome{Event: EventNext}, nil
}
