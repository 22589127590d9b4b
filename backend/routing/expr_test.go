package routing_test

import (
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/backend/routing"
)

func TestCompile(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		usesTask  bool
		errPart   string
	}{
		{name: "empty", src: ""},
		{name: "skill", src: `"billing" in worker.skills`},
		{name: "task and worker", src: `"billing" in worker.skills && task.language in worker.languages`, usesTask: true},
		{name: "comparison", src: `worker.level >= 2`},
		{name: "not a bool", src: `1 + 2`, errPart: "expected bool"},
		{name: "syntax", src: `worker.level >=`, errPart: "unexpected token"},
		{name: "unknown variable", src: `customer.vip`, errPart: "unknown name customer"},
		{name: "too long", src: strings.Repeat("true && ", 600) + "true", errPart: "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			usesTask, err := routing.Compile(tc.src)
			if tc.errPart != "" {
				wantCode(t, err, backend.EInvalid)
				if !strings.Contains(backend.ErrorMessage(err), tc.errPart) {
					t.Fatalf("message %q lacks %q", backend.ErrorMessage(err), tc.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if usesTask != tc.usesTask {
				t.Fatalf("usesTask = %v, want %v", usesTask, tc.usesTask)
			}
		})
	}
}

func TestEval(t *testing.T) {
	alice := map[string]any{"skills": []any{"billing", "sales"}, "languages": []any{"en", "es"}, "level": 3.0, "department": "finance"}
	bob := map[string]any{"skills": []any{"support"}, "languages": []any{"fr"}, "level": 1.0}
	es := map[string]any{"language": "es", "vip": true}
	de := map[string]any{"language": "de"}
	for _, tc := range []struct {
		name         string
		src          string
		worker, task map[string]any
		want         bool
	}{
		{"empty matches all", "", bob, es, true},
		{"skill yes", `"billing" in worker.skills`, alice, nil, true},
		{"skill no", `"billing" in worker.skills`, bob, nil, false},
		{"language in languages", `task.language in worker.languages`, alice, es, true},
		{"language not spoken", `task.language in worker.languages`, alice, de, false},
		{"billing spanish", `"billing" in worker.skills && task.language in worker.languages`, alice, es, true},
		{"level", `worker.level >= 2`, alice, nil, true},
		{"level low", `worker.level >= 2`, bob, nil, false},
		{"missing attribute is no match", `worker.level >= 2`, map[string]any{}, nil, false},
		{"missing list is no match", `"x" in worker.skills`, map[string]any{}, nil, false},
		{"vip task", `task.vip == true`, nil, es, true},
		{"string equality", `worker.department == "finance"`, alice, nil, true},
		{"or", `worker.level > 5 || "support" in worker.skills`, bob, nil, true},
		{"not", `not ("support" in worker.skills)`, bob, nil, false},
		{"number is no match", `worker.level + 1`, alice, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := routing.Eval(tc.src, tc.worker, tc.task)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("%s = %v, want %v", tc.src, got, tc.want)
			}
		})
	}
}

// FuzzCompile checks that no expression makes the compiler or the
// evaluator panic, and that what compiles evaluates to a boolean verdict.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		``, `true`, `"billing" in worker.skills`, `task.language in worker.languages`,
		`worker.level >= 2 && task.vip`, `worker.level >=`, `1 +`, `worker["a b"] == task.x`,
		`len(worker.skills) > 2`, `any(worker.skills, # == "x")`, `task.priority ?? 0 > 1`,
		`worker.a.b.c`, `(((`, `"\u0000"`, `1/0 == 1`, `worker.level matches "^[0-9]+$"`,
	} {
		f.Add(s)
	}
	worker := map[string]any{"skills": []any{"x", "billing"}, "languages": []any{"en"}, "level": 2.0, "a": map[string]any{"b": 1.0}}
	task := map[string]any{"language": "en", "vip": true, "priority": 3.0}
	f.Fuzz(func(t *testing.T, src string) {
		usesTask, err := routing.Compile(src)
		if err != nil {
			if backend.ErrorCode(err) != backend.EInvalid {
				t.Fatalf("compile error code %q: %v", backend.ErrorCode(err), err)
			}
			return
		}
		_ = usesTask
		if _, err := routing.Eval(src, worker, task); err != nil {
			t.Fatal(err)
		}
		if _, err := routing.Eval(src, nil, nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestValidateExpression(t *testing.T) {
	if err := routing.ValidateExpression(`"sales" in worker.skills`); err != nil {
		t.Fatal(err)
	}
	wantCode(t, routing.ValidateExpression(`worker.`), backend.EInvalid)
}

func TestWorkerPart(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`"billing" in worker.skills && task.language in worker.languages`, `("billing" in worker.skills)`},
		{`worker.level > 1 and task.vip and "x" in worker.skills`, `(worker.level > 1) && ("x" in worker.skills)`},
		{`"billing" in worker.skills || task.vip`, ``},
		{`task.language in worker.languages`, ``},
		{`"billing" in worker.skills`, ``}, // reads no task: cached whole
	} {
		t.Run(tc.src, func(t *testing.T) {
			if got := routing.WorkerPart(tc.src); got != tc.want {
				t.Fatalf("worker part %q, want %q", got, tc.want)
			}
		})
	}
}
