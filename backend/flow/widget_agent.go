package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"switchboard/backend"
)

// AgentProperties configure a send-to-agent widget: it creates a routing
// task for the conversation and ends the flow, leaving the conversation to
// a live agent. Attribute values that are strings are templates, such as
// {"language": "{{flow.variables.language}}", "department": "billing"}.
type AgentProperties struct {
	// Channel is the task channel (default "chat").
	Channel    string         `json:"channel,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
	// Priority is a number or a template rendering to one.
	Priority json.RawMessage `json:"priority,omitempty"`
	// Body, when set, is sent to the customer before the handover.
	Body string `json:"body,omitempty"`
}

type sendToAgent struct {
	channel  string
	attrs    any // templatized
	priority *Template
	prio     int
	body     *Template
}

func compileSendToAgent(w *backend.FlowWidget) (Widget, error) {
	var p AgentProperties
	if err := DecodeProperties(w, &p); err != nil {
		return nil, err
	}
	a := &sendToAgent{channel: p.Channel}
	if a.channel == "" {
		a.channel = "chat"
	}
	var err error
	if p.Attributes == nil {
		p.Attributes = map[string]any{}
	}
	if a.attrs, err = templatize(p.Attributes); err != nil {
		return nil, err
	}
	if len(p.Priority) > 0 && string(p.Priority) != "null" {
		var n int
		var s string
		if json.Unmarshal(p.Priority, &n) == nil {
			a.prio = n
		} else if json.Unmarshal(p.Priority, &s) == nil {
			if a.priority, err = ParseTemplate(s); err != nil {
				return nil, err
			}
			if a.priority.Static() {
				if a.prio, err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
					return nil, fmt.Errorf("priority %q is not a whole number", s)
				}
				a.priority = nil
			}
		} else {
			return nil, fmt.Errorf("priority must be a whole number or a template")
		}
	}
	if strings.TrimSpace(p.Body) != "" {
		if a.body, err = ParseTemplate(p.Body); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (*sendToAgent) Events() []string { return []string{EventFailed} }

func (a *sendToAgent) Run(ctx context.Context, s *Step) (Outcome, error) {
	prio := a.prio
	if a.priority != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(a.priority.Render(s))); err == nil {
			prio = n
		}
	}
	attrs, _ := renderJSON(a.attrs, s).(map[string]any)
	id, err := s.CreateTask(ctx, a.channel, attrs, prio)
	if err != nil {
		if ctx.Err() != nil {
			return Outcome{}, ctx.Err()
		}
		s.Note("task failed: %v", err)
		s.SetOutput("error", err.Error())
		return Outcome{Event: EventFailed}, nil
	}
	s.SetOutput("taskId", id)
	if a.body != nil {
		if text := a.body.Render(s); strings.TrimSpace(text) != "" {
			if err := s.Send(ctx, text); err != nil {
				s.Note("send failed: %v", err)
			}
		}
	}
	return Outcome{Handoff: true}, nil
}
