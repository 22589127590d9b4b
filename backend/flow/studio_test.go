package flow_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/backend/flow"
)

// TestImportStudio maps each export in testdata/studio and compares the
// flow and report with its .golden.json (-update rewrites them).
func TestImportStudio(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "studio", "*.json"))
	n := 0
	for _, path := range files {
		if strings.HasSuffix(path, ".golden.json") {
			continue
		}
		n++
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !flow.IsStudioExport(data) {
				t.Fatal("not recognised as a Studio export")
			}
			f, rep, err := flow.ImportStudio(data)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := json.MarshalIndent(map[string]any{"flow": f, "report": rep}, "", "  ")
			golden(t, strings.TrimSuffix(path, ".json")+".golden.json", append(out, '\n'))
		})
	}
	if n == 0 {
		t.Fatal("no Studio exports in testdata/studio")
	}
}

func TestImportStudio_Report(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "studio", "support.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, rep, err := flow.ImportStudio(data)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mapped != 9 {
		t.Errorf("mapped %d widgets, want 9", rep.Mapped)
	}
	var issues []string
	for _, is := range rep.Issues {
		issues = append(issues, is.Widget+": "+is.Message)
	}
	all := strings.Join(issues, "\n")
	for _, want := range []string{
		`not_understood: widget type "run-function" is not supported`,
		`say_hello: widget type "say-play" is not supported`,
		`split_menu: condition "after hours" (is_after_time) is not supported`,
		"order_status: media_url: media is not imported",
		`to_flex: workflow "WW0123456789abcdef0123456789abcdef" is a Twilio id`,
		"Trigger: incomingParent dropped",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("report lacks %q:\n%s", want, all)
		}
	}
	// The dropped branch leaves "closed" unreachable: the report says so.
	if len(rep.Problems) != 1 || rep.Problems[0].Widget != "closed" {
		t.Fatalf("problems %+v, want closed unreachable", rep.Problems)
	}

	// Without it the flow is valid and runs: "2" reaches Flex's replacement.
	var kept []backend.FlowWidget
	for _, w := range f.Widgets {
		if w.Name != "closed" {
			kept = append(kept, w)
		}
	}
	f.Widgets = kept
	if err := flow.Validate(f); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, f)
	h.say("hello")
	h.say("agent")
	if got := h.texts(); len(got) != 1 || got[0] != "Hi +15550001111! Reply 1 for an order, 2 for an agent." {
		t.Fatalf("sent %q", got)
	}
	want := []taskCall{{"cv_1", "chat", map[string]any{"name": "+15550001111", "department": "support", "language": "en"}, 5}}
	if got := h.taskCalls(); len(got) != 1 || got[0].Priority != 5 || got[0].Attrs["name"] != "+15550001111" {
		t.Fatalf("tasks %+v, want %+v", got, want)
	}
}

func TestImportStudio_Rejects(t *testing.T) {
	for _, in := range []string{`[]`, `{"states": []}`, `{"states": "x"}`, `not json`} {
		if _, _, err := flow.ImportStudio([]byte(in)); backend.ErrorCode(err) != backend.EInvalid {
			t.Errorf("import %s: %v, want invalid", in, err)
		}
	}
	if _, err := flow.Parse([]byte(`{"states": [{"name": "Trigger", "type": "trigger"}]}`)); err == nil ||
		!strings.Contains(backend.ErrorMessage(err), "Twilio Studio export") {
		t.Errorf("parse of a Studio export: %v", err)
	}
}
