package flow

import (
	"context"
	"fmt"
	"time"

	"switchboard/backend"
)

// SimulatedRun is the path one message took in a dry run.
type SimulatedRun struct {
	Message string      `json:"message"`
	Steps   []TraceStep `json:"steps"`
}

// Simulate runs messages through def one after another, as from one
// customer, without sending anything or creating tasks; HTTP widgets get an
// empty 200 answer. It returns EInvalid (a *ValidationError) for a flow
// that does not validate. The admin UI's flow editor shows its result.
func Simulate(ctx context.Context, def *backend.Flow, messages []string) ([]SimulatedRun, error) {
	conv := &backend.Conversation{ID: "cv_dryrun", ContactID: "ct_dryrun", Channel: "dry-run", Instance: "editor", Status: backend.StatusOpen}
	contact := &backend.Contact{ID: conv.ContactID, Name: "Test Customer", Attributes: map[string]string{}}
	var steps []TraceStep
	eng, err := NewEngine(NewMemStore(), dryRunOptions(def, NewFakeClock(time.Now().UTC()), contact, cannedDoer("{}"),
		func(t TraceStep) {
			if t.Actions == nil {
				t.Actions = []string{}
			}
			steps = append(steps, t)
		}))
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	if err := eng.Start(ctx); err != nil {
		return nil, err
	}
	runs := []SimulatedRun{}
	for i, text := range messages {
		steps = nil
		m := &backend.Message{ID: fmt.Sprintf("msg_%d", i+1), ConversationID: conv.ID, Direction: backend.DirectionIn, Text: text}
		if err := eng.HandleInbound(ctx, m, conv); err != nil {
			return nil, err
		}
		runs = append(runs, SimulatedRun{Message: text, Steps: append([]TraceStep{}, steps...)})
	}
	return runs, nil
}
