package flow

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"switchboard/backend"
)

// Program is a validated, compiled flow, shared by every execution on it.
type Program struct {
	def   *backend.Flow
	start string
	nodes map[string]*node
}

type node struct {
	w     *backend.FlowWidget
	impl  Widget
	next  map[string]string
	waits bool
}

// Flow returns a copy of the definition the program was compiled from.
func (p *Program) Flow() *backend.Flow {
	f, _ := cloneFlow(p.def) // it cloned once in Compile
	return f
}

// Start returns the name of the widget executions begin at.
func (p *Program) Start() string { return p.start }

func cloneFlow(f *backend.Flow) (*backend.Flow, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	var c backend.Flow
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Problem is one reason a flow is invalid.
type Problem struct {
	// Widget names the widget at fault ("" for the whole flow).
	Widget  string `json:"widget,omitempty"`
	Message string `json:"message"`
}

// ValidationError lists every problem found in a flow. backend.ErrorCode
// reports it as invalid and backend.ErrorMessage as one sentence per problem.
type ValidationError struct {
	Problems []Problem
}

// Error implements error.
func (e *ValidationError) Error() string { return "invalid flow: " + e.text() }

func (e *ValidationError) text() string {
	var parts []string
	for _, p := range e.Problems {
		if p.Widget != "" {
			parts = append(parts, fmt.Sprintf("widget %q: %s", p.Widget, p.Message))
		} else {
			parts = append(parts, p.Message)
		}
	}
	return strings.Join(parts, "; ")
}

// Unwrap lets backend.ErrorCode see the invalid code.
func (e *ValidationError) Unwrap() error {
	return backend.Errorf(backend.EInvalid, "The flow is invalid: %s.", e.text())
}

var widgetName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Validate checks f with the built-in widget types.
func Validate(f *backend.Flow) error {
	_, err := Compile(f, DefaultRegistry())
	return err
}

// Compile validates f and compiles it with the widget types of reg. It
// reports, all at once: unknown widget types, bad properties (a bad regex,
// a bad template), missing, unknown and dangling transitions, widgets the
// start cannot reach, and loops with no waiting widget in them.
func Compile(f *backend.Flow, reg Registry) (*Program, error) {
	v := &ValidationError{}
	add := func(w, format string, args ...any) {
		v.Problems = append(v.Problems, Problem{Widget: w, Message: fmt.Sprintf(format, args...)})
	}
	if f == nil || len(f.Widgets) == 0 {
		add("", "a flow needs widgets")
		return nil, v
	}
	f, err := cloneFlow(f)
	if err != nil {
		add("", "the flow is not valid JSON: %v", err)
		return nil, v
	}
	p := &Program{def: f, nodes: map[string]*node{}}
	var order []string
	for i := range f.Widgets {
		w := &f.Widgets[i]
		if !widgetName.MatchString(w.Name) {
			add(w.Name, "a widget name is 1 to 64 letters, digits, _ or -")
			continue
		}
		if p.nodes[w.Name] != nil {
			add(w.Name, "two widgets have this name")
			continue
		}
		n := &node{w: w, next: w.Transitions}
		p.nodes[w.Name] = n
		order = append(order, w.Name)
		typ := reg[w.Type]
		if typ == nil {
			add(w.Name, "unknown widget type %q", w.Type)
			continue
		}
		impl, err := typ.Compile(w)
		if err != nil {
			add(w.Name, "%v", err)
			continue
		}
		n.impl = impl
		_, n.waits = impl.(Waiter)
	}
	p.start = f.Start
	if p.start == "" {
		p.start = TypeTrigger
		if p.nodes[p.start] == nil {
			for _, w := range f.Widgets {
				if w.Type == TypeTrigger {
					p.start = w.Name
					break
				}
			}
		}
	}
	if p.nodes[p.start] == nil {
		add("", "the flow has no start widget %q", p.start)
		return nil, v
	}
	for _, name := range order {
		checkTransitions(p, p.nodes[name], add)
	}
	if len(v.Problems) > 0 {
		return nil, v
	}
	checkReachable(p, order, add)
	checkLoops(p, order, add)
	if len(v.Problems) > 0 {
		return nil, v
	}
	return p, nil
}

func checkTransitions(p *Program, n *node, add func(w, format string, args ...any)) {
	if n.impl == nil {
		return
	}
	opt, _ := n.impl.(Optionaler)
	events := map[string]bool{}
	for _, ev := range n.impl.Events() {
		events[ev] = true
		if n.next[ev] == "" && (opt == nil || !opt.Optional(ev)) {
			add(n.w.Name, "transition %q goes nowhere", ev)
		}
	}
	for _, ev := range sortedKeys(n.next) {
		to := n.next[ev]
		switch {
		case !events[ev]:
			add(n.w.Name, "a %s widget has no event %q", n.w.Type, ev)
		case to == "" && (opt == nil || !opt.Optional(ev)):
			// reported above
		case to != "" && p.nodes[to] == nil:
			add(n.w.Name, "transition %q goes to %q, which does not exist", ev, to)
		case to == p.start:
			add(n.w.Name, "transition %q goes back to the start widget", ev)
		}
	}
}

func checkReachable(p *Program, order []string, add func(w, format string, args ...any)) {
	seen := map[string]bool{p.start: true}
	queue := []string{p.start}
	for len(queue) > 0 {
		n := p.nodes[queue[0]]
		queue = queue[1:]
		for _, ev := range sortedKeys(n.next) {
			if to := n.next[ev]; to != "" && !seen[to] {
				seen[to] = true
				queue = append(queue, to)
			}
		}
	}
	for _, name := range order {
		if !seen[name] {
			add(name, "no transition leads here (unreachable)")
		}
	}
}

// checkLoops reports every cycle made only of widgets that do not wait: it
// would run forever on one input.
func checkLoops(p *Program, order []string, add func(w, format string, args ...any)) {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		color[name] = grey
		stack = append(stack, name)
		n := p.nodes[name]
		for _, ev := range sortedKeys(n.next) {
			to := n.next[ev]
			if to == "" || p.nodes[to].waits {
				continue
			}
			switch color[to] {
			case grey:
				i := len(stack) - 1
				for stack[i] != to {
					i--
				}
				cycle := append(append([]string{}, stack[i:]...), to)
				add(to, "loop with no wait in it: %s", strings.Join(cycle, " → "))
			case white:
				visit(to)
			}
		}
		stack = stack[:len(stack)-1]
		color[name] = black
	}
	for _, name := range order {
		if color[name] == white && !p.nodes[name].waits {
			visit(name)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
