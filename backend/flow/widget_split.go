package flow

import (
	"context"
	"errors"
	"fmt"

	"switchboard/backend"
)

// EventNoMatch is the split's (and the FAQ bot's) transition when nothing
// matched.
const EventNoMatch = "noMatch"

// SplitCase is one branch of a split: its event is taken when all its
// conditions hold. A single condition may be written inline (op, value,
// values) instead of in Conditions.
type SplitCase struct {
	Event string `json:"event"`
	Condition
	Conditions []Condition `json:"conditions,omitempty"`
}

// SplitProperties configure a split widget. Cases are tried in order; the
// first that matches wins, else noMatch.
type SplitProperties struct {
	// Input is the template tested (default {{message.body}}): the
	// message, a variable, a contact attribute, a widget output.
	Input string      `json:"input,omitempty"`
	Cases []SplitCase `json:"cases"`
}

type split struct {
	input  *Template
	cases  []splitCase
	events []string
}

type splitCase struct {
	event string
	conds []*condition
}

func compileSplit(w *backend.FlowWidget) (Widget, error) {
	var p SplitProperties
	if err := DecodeProperties(w, &p); err != nil {
		return nil, err
	}
	if p.Input == "" {
		p.Input = "{{message.body}}"
	}
	in, err := ParseTemplate(p.Input)
	if err != nil {
		return nil, err
	}
	if len(p.Cases) == 0 {
		return nil, errors.New("a split needs at least one case")
	}
	sp := &split{input: in}
	seen := map[string]bool{EventNoMatch: true}
	for i, c := range p.Cases {
		if c.Event == "" {
			return nil, fmt.Errorf("case %d has no event name", i+1)
		}
		if seen[c.Event] {
			return nil, fmt.Errorf("two cases are named %q", c.Event)
		}
		seen[c.Event] = true
		conds := c.Conditions
		if c.Op != "" {
			conds = append([]Condition{c.Condition}, conds...)
		}
		if len(conds) == 0 {
			return nil, fmt.Errorf("case %q has no condition", c.Event)
		}
		sc := splitCase{event: c.Event}
		for _, cond := range conds {
			cc, err := compileCondition(cond)
			if err != nil {
				return nil, fmt.Errorf("case %q: %v", c.Event, err)
			}
			sc.conds = append(sc.conds, cc)
		}
		sp.cases = append(sp.cases, sc)
		sp.events = append(sp.events, c.Event)
	}
	sp.events = append(sp.events, EventNoMatch)
	return sp, nil
}

func (w *split) Events() []string { return w.events }

func (w *split) Run(_ context.Context, s *Step) (Outcome, error) {
	text := w.input.Render(s)
	s.Note("test %q", text)
	for _, c := range w.cases {
		if w.matches(s, c, text) {
			s.SetOutput("matched", c.event)
			return Outcome{Event: c.event}, nil
		}
	}
	s.SetOutput("matched", EventNoMatch)
	return Outcome{Event: EventNoMatch}, nil
}

func (w *split) matches(s *Step, c splitCase, text string) bool {
	for _, cond := range c.conds {
		t := text
		if cond.input != nil {
			t = cond.input.Render(s)
		}
		if !cond.match(s, t) {
			return false
		}
	}
	return true
}
