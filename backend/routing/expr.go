package routing

import (
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"switchboard/backend"
)

// maxExprLen bounds an expression's source; maxExprNodes its syntax tree.
const (
	maxExprLen   = 4096
	maxExprNodes = 1000
)

// program is a compiled boolean expression over worker and task
// attributes. A nil prog always matches.
type program struct {
	src  string
	prog *vm.Program
	// usesTask reports whether the expression reads task attributes; when
	// it does not, its verdict for a worker is cached until the worker's
	// attributes change.
	usesTask bool
	// pre, for an expression that reads the task, is the conjunction of
	// its top-level && terms that do not: when pre fails for a worker, the
	// whole expression fails for every task, and pre's verdict is cached.
	pre   *program
	cache map[*worker]cachedMatch
}

type cachedMatch struct {
	version int
	ok      bool
}

// compileEnv declares the two variables an expression may read.
var compileEnv = map[string]any{"worker": map[string]any{}, "task": map[string]any{}}

// compileExpr compiles src once. kind ("target expression", "filter …")
// names it in the EInvalid error a bad expression returns.
func compileExpr(kind, src string) (*program, error) {
	src = strings.TrimSpace(src)
	if src == "" {
		return &program{}, nil
	}
	if len(src) > maxExprLen {
		return nil, backend.Errorf(backend.EInvalid, "The %s is longer than %d characters.", kind, maxExprLen)
	}
	p, err := expr.Compile(src, expr.Env(compileEnv), expr.AsBool(), expr.MaxNodes(maxExprNodes))
	if err != nil {
		return nil, backend.Errorf(backend.EInvalid, "The %s %q is invalid: %s", kind, src, firstLine(err.Error()))
	}
	out := &program{src: src, prog: p, usesTask: readsTask(p.Node()), cache: map[*worker]cachedMatch{}}
	if out.usesTask {
		out.pre = workerPart(src)
	}
	return out, nil
}

func readsTask(n ast.Node) bool {
	v := &taskFinder{}
	ast.Walk(&n, v)
	return v.found
}

// workerPart compiles the top-level && terms of src that read only the
// worker, or returns nil when there are none.
func workerPart(src string) *program {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	var terms []string
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
			walk(b.Left)
			walk(b.Right)
			return
		}
		if !readsTask(n) {
			terms = append(terms, "("+n.String()+")")
		}
	}
	walk(tree.Node)
	if len(terms) == 0 {
		return nil
	}
	p, err := expr.Compile(strings.Join(terms, " && "), expr.Env(compileEnv), expr.AsBool())
	if err != nil {
		return nil
	}
	return &program{src: strings.Join(terms, " && "), prog: p, cache: map[*worker]cachedMatch{}}
}

// ValidateExpression reports whether src compiles as a target or filter
// expression. Returns EInvalid with expr's message.
func ValidateExpression(src string) error {
	_, err := compileExpr("expression", src)
	return err
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

type taskFinder struct{ found bool }

func (v *taskFinder) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok && id.Value == "task" {
		v.found = true
	}
}

// evaluator runs programs with one reusable VM and environment; it belongs
// to the engine and is used under its lock.
type evaluator struct {
	vm  vm.VM
	env map[string]any
}

var emptyAttrs = map[string]any{}

func newEvaluator() *evaluator {
	return &evaluator{env: map[string]any{"worker": emptyAttrs, "task": emptyAttrs}}
}

// run evaluates p for the given attributes; a runtime error is no match.
func (ev *evaluator) run(p *program, worker, task map[string]any) bool {
	if p == nil || p.prog == nil {
		return true
	}
	if worker == nil {
		worker = emptyAttrs
	}
	if task == nil {
		task = emptyAttrs
	}
	ev.env["worker"], ev.env["task"] = worker, task
	out, err := ev.vm.Run(p.prog, ev.env)
	if err != nil {
		return false
	}
	b, _ := out.(bool)
	return b
}

// matchWorker evaluates p for w and t, through the cache when p ignores
// the task.
func (ev *evaluator) matchWorker(p *program, w *worker, t map[string]any) bool {
	if p == nil || p.prog == nil {
		return true
	}
	if p.usesTask {
		if p.pre != nil && !ev.matchWorker(p.pre, w, nil) {
			return false
		}
		return ev.run(p, w.w.Attributes, t)
	}
	if c, ok := p.cache[w]; ok && c.version == w.version {
		return c.ok
	}
	ok := ev.run(p, w.w.Attributes, nil)
	p.cache[w] = cachedMatch{version: w.version, ok: ok}
	return ok
}
