package routing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"switchboard/backend"
)

// taskRouterConfig is the part of a Twilio TaskRouter workflow
// configuration Switchboard shares.
type taskRouterConfig struct {
	TaskRouting struct {
		Filters []struct {
			FriendlyName string             `json:"filter_friendly_name"`
			Expression   string             `json:"expression"`
			Targets      []taskRouterTarget `json:"targets"`
		} `json:"filters"`
		DefaultFilter *taskRouterTarget `json:"default_filter"`
	} `json:"task_routing"`
}

type taskRouterTarget struct {
	Queue      string `json:"queue"`
	Expression string `json:"expression"`
	Priority   *int   `json:"priority"`
	Timeout    *int   `json:"timeout"`
	SkipIf     string `json:"skip_if"`
	OrderBy    string `json:"order_by"`
	KnownSID   string `json:"known_worker_sid"`
	KnownName  string `json:"known_worker_friendly_name"`
}

// ImportTaskRouterWorkflow converts a TaskRouter workflow configuration
// (the JSON of its "configuration" field) into a Workflow named name, to
// pass to UpsertWorkflow. queues maps TaskRouter queue SIDs to queue IDs.
// Filter expressions (over bare task attributes) and target expressions
// are translated to expr syntax; skip_if "workers.available == 0" becomes
// SkipIfNoWorkers. What has no counterpart (order_by on a target, known
// workers, other skip_if expressions) is left out and described in the
// returned notes. Returns EInvalid for malformed JSON or an unmapped queue.
func ImportTaskRouterWorkflow(data []byte, name string, queues map[string]string) (*backend.Workflow, []string, error) {
	var cfg taskRouterConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&cfg); err != nil {
		return nil, nil, backend.Errorf(backend.EInvalid, "The TaskRouter configuration is not valid JSON: %v", err)
	}
	wf := &backend.Workflow{Name: name}
	var notes []string
	conv := func(where string, tt taskRouterTarget) (backend.WorkflowTarget, error) {
		id, ok := queues[tt.Queue]
		if !ok {
			return backend.WorkflowTarget{}, backend.Errorf(backend.EInvalid, "%s targets TaskRouter queue %q, which has no Switchboard queue.", where, tt.Queue)
		}
		t := backend.WorkflowTarget{QueueID: id, Priority: tt.Priority, Expression: TranslateTaskRouterExpression(tt.Expression, "")}
		if tt.Timeout != nil {
			t.TimeoutSeconds = *tt.Timeout
		}
		switch skip := strings.Join(strings.Fields(tt.SkipIf), " "); skip {
		case "":
		case "workers.available == 0", "workers.available==0":
			t.SkipIfNoWorkers = true
		default:
			notes = append(notes, fmt.Sprintf("%s: skip_if %q is not supported; the target is never skipped.", where, tt.SkipIf))
		}
		if tt.OrderBy != "" {
			notes = append(notes, fmt.Sprintf("%s: order_by %q is not supported on targets; set OrderBy on the queue.", where, tt.OrderBy))
		}
		if tt.KnownSID != "" || tt.KnownName != "" {
			notes = append(notes, fmt.Sprintf("%s: known-worker targets are not supported.", where))
		}
		return t, nil
	}
	for i, f := range cfg.TaskRouting.Filters {
		fname := f.FriendlyName
		if fname == "" {
			fname = fmt.Sprintf("filter %d", i+1)
		}
		wff := backend.WorkflowFilter{Name: fname, Expression: TranslateTaskRouterExpression(f.Expression, "task")}
		for j, tt := range f.Targets {
			t, err := conv(fmt.Sprintf("Target %d of %s", j+1, fname), tt)
			if err != nil {
				return nil, nil, err
			}
			wff.Targets = append(wff.Targets, t)
		}
		wf.Filters = append(wf.Filters, wff)
	}
	if cfg.TaskRouting.DefaultFilter == nil {
		return nil, nil, backend.Errorf(backend.EInvalid, "The TaskRouter configuration has no default_filter.")
	}
	t, err := conv("The default filter", *cfg.TaskRouting.DefaultFilter)
	if err != nil {
		return nil, nil, err
	}
	wf.Default = []backend.WorkflowTarget{t}
	if _, err := compileWorkflow(wf); err != nil {
		return nil, nil, err
	}
	return wf, notes, nil
}

// TranslateTaskRouterExpression rewrites a TaskRouter expression into expr
// syntax: AND, OR, NOT, IN and CONTAINS become their lower-case operators,
// "a HAS b" becomes "b in a", single-quoted strings become double-quoted,
// and when bare is "task" or "worker" a bare attribute name x becomes
// bare.x (TaskRouter filter expressions name task attributes bare, queue
// target expressions worker attributes).
func TranslateTaskRouterExpression(src, bare string) string {
	toks := tokenize(src)
	var out []string
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		switch strings.ToUpper(tok) {
		case "AND", "OR", "NOT", "IN", "CONTAINS":
			out = append(out, strings.ToLower(tok))
			continue
		case "HAS":
			if len(out) > 0 && i+1 < len(toks) && isOperand(out[len(out)-1]) {
				right := translateOperand(toks[i+1], bare)
				left := out[len(out)-1]
				out[len(out)-1] = right
				out = append(out, "in", left)
				i++
				continue
			}
			out = append(out, "in")
			continue
		}
		out = append(out, translateOperand(tok, bare))
	}
	return strings.Join(out, " ")
}

func translateOperand(tok, bare string) string {
	if tok == "" {
		return tok
	}
	if tok[0] == '\'' {
		s := strings.TrimSuffix(tok[1:], "'")
		b, _ := json.Marshal(strings.ReplaceAll(s, `\'`, `'`))
		return string(b)
	}
	if bare != "" && isIdentStart(rune(tok[0])) {
		switch strings.ToLower(tok) {
		case "true", "false", "null", "nil":
			return strings.ToLower(tok)
		}
		if !strings.HasPrefix(tok, "task.") && !strings.HasPrefix(tok, "worker.") && tok != "task" && tok != "worker" {
			return bare + "." + tok
		}
	}
	return tok
}

func isOperand(tok string) bool {
	if tok == "" {
		return false
	}
	c := rune(tok[0])
	return isIdentStart(c) || c == '"' || unicode.IsDigit(c)
}

func isIdentStart(c rune) bool { return c == '_' || unicode.IsLetter(c) }

// tokenize splits a TaskRouter expression into identifiers (with dots),
// quoted strings, numbers and operator or bracket runs.
func tokenize(s string) []string {
	var toks []string
	r := []rune(s)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(r) && r[j] != c {
				if r[j] == '\\' {
					j++
				}
				j++
			}
			if j < len(r) {
				j++
			}
			if j > len(r) {
				j = len(r)
			}
			toks = append(toks, string(r[i:j]))
			i = j
		case isIdentStart(c):
			j := i
			for j < len(r) && (r[j] == '_' || r[j] == '.' || unicode.IsLetter(r[j]) || unicode.IsDigit(r[j])) {
				j++
			}
			toks = append(toks, string(r[i:j]))
			i = j
		case unicode.IsDigit(c):
			j := i
			for j < len(r) && (unicode.IsDigit(r[j]) || r[j] == '.') {
				j++
			}
			toks = append(toks, string(r[i:j]))
			i = j
		case strings.ContainsRune("()[],", c):
			toks = append(toks, string(c))
			i++
		default:
			j := i
			for j < len(r) && strings.ContainsRune("=!<>&|+-*/%", r[j]) {
				j++
			}
			if j == i {
				j++
			}
			toks = append(toks, string(r[i:j]))
			i = j
		}
	}
	return toks
}
