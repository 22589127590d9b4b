package flow_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/backend/flow"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func TestValidate(t *testing.T) {
	wait := func(name string, next map[string]string) backend.FlowWidget {
		return w(name, "send-and-wait-for-reply", next, nil)
	}
	setv := func(name, next string) backend.FlowWidget { return w(name, "set-variables", to("next", next), nil) }
	cases := []struct {
		name string
		flow *backend.Flow
		want []string // substrings of problems, all required; nil: valid
	}{
		{"valid", mkflow("a", setv("a", "end"), endW), nil},
		{"loop through a wait is fine", mkflow("a", setv("a", "b"),
			wait("b", to("incomingMessage", "a", "timeout", "end", "failed", "end")), endW), nil},
		{"no widgets", &backend.Flow{}, []string{"a flow needs widgets"}},
		{"unknown widget", mkflow("a", w("a", "teleport", nil, nil)), []string{`widget "a": unknown widget type "teleport"`}},
		{"missing transition", mkflow("a", msg("a", "hi", to("sent", "end")), endW), []string{`widget "a": transition "failed" goes nowhere`}},
		{"dangling transition", mkflow("a", setv("a", "ghost")), []string{`transition "next" goes to "ghost", which does not exist`}},
		{"unknown event", mkflow("a", w("a", "end", to("next", "a"), nil)), []string{`a end widget has no event "next"`}},
		{"unreachable", mkflow("a", setv("a", "end"), setv("island", "end"), endW), []string{`widget "island": no transition leads here`}},
		{"loop with no wait", mkflow("a", setv("a", "b"), setv("b", "c"), setv("c", "a")), []string{`loop with no wait in it: a → b → c → a`}},
		{"self loop", mkflow("a", setv("a", "a")), []string{`loop with no wait in it: a → a`}},
		{"loop through a split", mkflow("a", w("a", "split", to("yes", "a", "noMatch", "end"),
			flow.SplitProperties{Cases: []flow.SplitCase{{Event: "yes", Condition: flow.Condition{Op: "isBlank"}}}}), endW),
			[]string{"loop with no wait in it: a → a"}},
		{"bad regex in a split", mkflow("a", w("a", "split", to("yes", "end", "noMatch", "end"),
			flow.SplitProperties{Cases: []flow.SplitCase{{Event: "yes", Condition: flow.Condition{Op: "regex", Value: "(["}}}}), endW),
			[]string{`bad regex "(["`}},
		{"bad regex in the FAQ bot", mkflow("a", w("a", "faq-bot", to("answered", "end", "noMatch", "end", "handover", "end"),
			flow.FAQProperties{Entries: []flow.FAQEntry{{Regex: "a(", Answer: "x"}}}), endW), []string{`entry 1: bad regex "a("`}},
		{"bad template", mkflow("a", msg("a", "Hi {{name", to("sent", "end", "failed", "end")), endW), []string{"is never closed"}},
		{"unknown filter", mkflow("a", msg("a", "Hi {{name | shout}}", to("sent", "end", "failed", "end")), endW), []string{`unknown filter "shout"`}},
		{"unknown property", mkflow("a", w("a", "send-message", to("sent", "end", "failed", "end"), map[string]any{"bdy": "x"}), endW),
			[]string{`unknown field "bdy"`}},
		{"unknown operator", mkflow("a", w("a", "split", to("yes", "end", "noMatch", "end"),
			flow.SplitProperties{Cases: []flow.SplitCase{{Event: "yes", Condition: flow.Condition{Op: "like"}}}}), endW), []string{`unknown operator "like"`}},
		{"numeric compare needs a number", mkflow("a", w("a", "split", to("yes", "end", "noMatch", "end"),
			flow.SplitProperties{Cases: []flow.SplitCase{{Event: "yes", Condition: flow.Condition{Op: "gt", Value: "ten"}}}}), endW),
			[]string{`gt needs a number, not "ten"`}},
		{"duplicate names", mkflow("a", setv("a", "end"), setv("a", "end"), endW), []string{`widget "a": two widgets have this name`}},
		{"bad name", mkflow("a b", setv("a b", "end"), endW), []string{"a widget name is"}},
		{"no start", &backend.Flow{Start: "go", Widgets: []backend.FlowWidget{endW}}, []string{`no start widget "go"`}},
		{"back to the trigger", mkflow("a", setv("a", "trigger")), []string{"goes back to the start widget"}},
		{"bad HTTP URL", mkflow("a", w("a", "make-http-request", to("success", "end", "failed", "end", "timeout", "end"),
			map[string]any{"url": "ftp://x"}), endW), []string{`URL "ftp://x" is not an http or https URL`}},
		{"several problems at once", mkflow("a", setv("a", "ghost"), w("b", "teleport", nil, nil)),
			[]string{`"a": transition "next" goes to "ghost"`, `"b": unknown widget type`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := flow.Validate(tc.flow)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("valid flow: %v", err)
				}
				return
			}
			var ve *flow.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v, want a *ValidationError", err)
			}
			if backend.ErrorCode(err) != backend.EInvalid {
				t.Fatalf("code %q, want invalid", backend.ErrorCode(err))
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if msg := backend.ErrorMessage(err); !strings.HasPrefix(msg, "The flow is invalid: ") {
				t.Errorf("message for people %q", msg)
			}
		})
	}
}

// TestGoldenFlows checks that every flow in testdata/flows is valid and that
// every flow in testdata/invalid fails with the problems in its .err file.
// The default flow is kept in testdata/flows/default.json: -update rewrites
// it and the .err files.
func TestGoldenFlows(t *testing.T) {
	def, _ := json.MarshalIndent(flow.DefaultFlow(flow.DefaultFlowOptions{}), "", "  ")
	golden(t, filepath.Join("testdata", "flows", "default.json"), append(def, '\n'))

	files, _ := filepath.Glob(filepath.Join("testdata", "flows", "*.json"))
	if len(files) < 2 {
		t.Fatalf("only %d golden flows", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f := mustLoad(t, path)
			if err := flow.Validate(f); err != nil {
				t.Fatal(err)
			}
		})
	}
	files, _ = filepath.Glob(filepath.Join("testdata", "invalid", "*.json"))
	if len(files) == 0 {
		t.Fatal("no invalid golden flows")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			var ve *flow.ValidationError
			if err := flow.Validate(mustLoad(t, path)); !errors.As(err, &ve) {
				t.Fatalf("error %v, want problems", err)
			}
			var b bytes.Buffer
			for _, p := range ve.Problems {
				b.WriteString(p.Widget + ": " + p.Message + "\n")
			}
			golden(t, strings.TrimSuffix(path, ".json")+".err", b.Bytes())
		})
	}
}

func mustLoad(t *testing.T, path string) *backend.Flow {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := flow.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// golden compares got with the file at path, or rewrites it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
