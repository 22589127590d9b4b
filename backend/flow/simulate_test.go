package flow_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/backend/flow"
)

func TestSimulate_DefaultFlowPaths(t *testing.T) {
	raw, err := os.ReadFile("testdata/flows/default.json")
	if err != nil {
		t.Fatal(err)
	}
	def, err := flow.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := flow.Simulate(context.Background(), def, []string{"hi", "I want a live agent"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("runs = %+v", runs)
	}
	last := runs[1].Steps[len(runs[1].Steps)-1]
	if last.Status != backend.FlowAgent || !strings.Contains(strings.Join(last.Actions, " "), "create task") {
		t.Fatalf("the second message did not reach an agent: %+v", runs[1].Steps)
	}
	bad := &backend.Flow{Name: "broken", Widgets: []backend.FlowWidget{{Name: "trigger", Type: "trigger", Transitions: map[string]string{"incomingMessage": "nowhere"}}}}
	if _, err := flow.Simulate(context.Background(), bad, nil); backend.ErrorCode(err) != backend.EInvalid {
		t.Fatalf("a dangling transition: %v", err)
	}
}
