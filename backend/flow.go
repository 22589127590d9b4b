package backend

import (
	"context"
	"encoding/json"
	"time"
)

// Flow event names on the change feed.
const (
	// EventFlowUpserted carries a FlowRevision when a flow is saved.
	EventFlowUpserted = "flow.upserted"
	// EventFlowDeleted carries the flow key when a flow is removed (the
	// channel instance falls back to the default flow).
	EventFlowDeleted = "flow.deleted"
	// EventFlowExecutionUpserted carries a FlowExecutionEvent after each
	// run, so the desktop can show whether a bot or an agent holds a
	// conversation. Its entity id is the conversation's id.
	EventFlowExecutionUpserted = "flow_execution.upserted"
)

// Flow is a flow definition: widgets joined by named transitions. Each
// channel instance runs one flow for every inbound conversation.
type Flow struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Start names the widget a new execution begins at (a trigger);
	// empty means the widget named "trigger".
	Start   string       `json:"start,omitempty"`
	Widgets []FlowWidget `json:"widgets"`
}

// FlowWidget is one step of a flow. Transitions map each event the widget
// can emit (such as "sent", "noMatch", "timeout") to the name of the next
// widget.
type FlowWidget struct {
	Name        string            `json:"name"`
	Type        string            `json:"type"`
	Transitions map[string]string `json:"transitions,omitempty"`
	// Properties is the widget type's own JSON configuration.
	Properties json.RawMessage `json:"properties,omitempty"`
	// Position is where the editor draws the widget.
	Position *FlowPosition `json:"position,omitempty"`
}

// FlowPosition is a widget's place on the editor canvas.
type FlowPosition struct {
	X int `json:"x"`
	Y int `json:"y"`
}

// FlowRevision is one saved version of the flow of a channel instance. Key
// names the instance as "connector/instance". Revisions count from 1;
// revision 0 stands for the built-in default flow, which is never stored.
type FlowRevision struct {
	Key       string    `json:"key"`
	Revision  int       `json:"revision"`
	Flow      *Flow     `json:"flow"`
	CreatedAt time.Time `json:"createdAt"`
}

// FlowKey returns the flow key of a channel instance, "connector/instance".
func FlowKey(connector, instance string) string { return connector + "/" + instance }

// Flow execution statuses. Running means a step is in progress (its lease
// says until when the runner holds it); waiting means suspended until a
// reply or a timeout; the others are final.
const (
	FlowRunning = "running"
	FlowWaiting = "waiting"
	FlowEnded   = "ended"
	// FlowAgent means the flow handed the conversation to a live agent.
	FlowAgent  = "agent"
	FlowFailed = "failed"
)

// Flow input kinds: what makes an execution start or move on.
const (
	InputMessage = "incomingMessage"
	InputCall    = "incomingCall"
	InputRequest = "incomingRequest"
	InputTimeout = "timeout"
)

// FlowInput is one thing that moves an execution: an inbound message, an
// API request or a timeout.
type FlowInput struct {
	Kind      string         `json:"kind"`
	MessageID string         `json:"messageId,omitempty"`
	Body      string         `json:"body,omitempty"`
	Params    map[string]any `json:"params,omitempty"`
	At        time.Time      `json:"at"`
}

// FlowExecution is the durable state of a flow in one conversation; a
// conversation has at most one at a time.
type FlowExecution struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversationId"`
	FlowKey        string `json:"flowKey"`
	Revision       int    `json:"revision"`
	Status         string `json:"status"`
	// Widget is the widget the execution waits at or runs from.
	Widget string `json:"widget"`
	// Variables are the flow variables ({{flow.variables.x}}).
	Variables map[string]any `json:"variables"`
	// Outputs are what widgets recorded ({{widgets.name.key}}).
	Outputs map[string]map[string]any `json:"outputs"`
	// Trigger is the input that started the execution; Message the
	// latest inbound message.
	Trigger *FlowInput `json:"trigger,omitempty"`
	Message *FlowInput `json:"message,omitempty"`
	// Pending is the input a running execution is processing; after a
	// crash it is processed again once the lease ran out.
	Pending *FlowInput `json:"pending,omitempty"`
	// Seen lists the newest processed message ids, so a redelivered
	// message is not processed twice.
	Seen []string `json:"seen,omitempty"`
	// Steps counts widgets run; it makes idempotency keys for sends.
	Steps        int       `json:"steps"`
	TaskID       string    `json:"taskId,omitempty"`
	Error        string    `json:"error,omitempty"`
	WaitingSince time.Time `json:"waitingSince,omitzero"`
	// TimeoutAt is when a waiting execution takes its timeout transition.
	TimeoutAt  time.Time `json:"timeoutAt,omitzero"`
	LeaseUntil time.Time `json:"leaseUntil,omitzero"`
	// Version increases with every save (compare-and-set).
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// FlowExecutionEvent is what the change feed (and a snapshot) carries of a
// flow execution: who holds the conversation and where its flow stands. The
// flow's variables, widget outputs and inputs (the customer's answers) stay
// in the store; only the engine reads them.
type FlowExecutionEvent struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversationId"`
	FlowKey        string    `json:"flowKey"`
	Revision       int       `json:"revision"`
	Status         string    `json:"status"`
	Widget         string    `json:"widget"`
	TaskID         string    `json:"taskId,omitempty"`
	Error          string    `json:"error,omitempty"`
	WaitingSince   time.Time `json:"waitingSince,omitzero"`
	TimeoutAt      time.Time `json:"timeoutAt,omitzero"`
	Version        int64     `json:"version"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// Event returns what the change feed carries of x.
func (x *FlowExecution) Event() *FlowExecutionEvent {
	return &FlowExecutionEvent{ID: x.ID, ConversationID: x.ConversationID, FlowKey: x.FlowKey, Revision: x.Revision,
		Status: x.Status, Widget: x.Widget, TaskID: x.TaskID, Error: x.Error, WaitingSince: x.WaitingSince,
		TimeoutAt: x.TimeoutAt, Version: x.Version, CreatedAt: x.CreatedAt, UpdatedAt: x.UpdatedAt}
}

// Final reports whether the execution has finished (ended, handed to an
// agent or failed).
func (x *FlowExecution) Final() bool {
	return x.Status == FlowEnded || x.Status == FlowAgent || x.Status == FlowFailed
}

// FlowService keeps flow definitions and executions.
type FlowService interface {
	// PutFlow saves f as the newest revision of key and returns it.
	// Returns EInvalid for an empty key. It does not validate f.
	PutFlow(ctx context.Context, key string, f *Flow) (*FlowRevision, error)
	// FindFlow returns the current revision of key. Returns ENotFound when
	// the instance has no flow of its own.
	FindFlow(ctx context.Context, key string) (*FlowRevision, error)
	// FindFlowRevision returns one revision, current or not. Returns ENotFound.
	FindFlowRevision(ctx context.Context, key string, revision int) (*FlowRevision, error)
	// FindFlows lists the current revision of every flow, by key.
	FindFlows(ctx context.Context) ([]*FlowRevision, error)
	// DeleteFlow makes key fall back to the default flow; old revisions
	// stay for executions still on them. Returns ENotFound.
	DeleteFlow(ctx context.Context, key string) error

	// FindFlowExecution returns a conversation's execution. Returns ENotFound.
	FindFlowExecution(ctx context.Context, conversationID string) (*FlowExecution, error)
	// SaveFlowExecution writes x if the stored version of the
	// conversation's execution is still version (0: none is stored), then
	// sets x.Version to version+1. Returns EConflict otherwise.
	SaveFlowExecution(ctx context.Context, x *FlowExecution, version int64) error
	// DueFlowExecutions returns up to limit executions that need the
	// engine at now: waiting ones whose timeout passed, and running ones
	// whose lease ran out. Soonest first.
	DueFlowExecutions(ctx context.Context, now time.Time, limit int) ([]*FlowExecution, error)
	// NextFlowDeadline returns the soonest timeout or lease among waiting
	// and running executions (ok false when there is none).
	NextFlowDeadline(ctx context.Context) (at time.Time, ok bool, err error)
	// RunningFlowExecutions returns up to limit running executions,
	// whatever their lease: an engine that is its store's only runner takes
	// them over when it starts instead of waiting for leases held by a
	// process that died.
	RunningFlowExecutions(ctx context.Context, limit int) ([]*FlowExecution, error)
}

// FlowStepService saves a step of a flow in one write transaction: the
// bot's replies and the execution's new state, all or nothing, so a run
// that sends replies needs no claim of its own before it.
type FlowStepService interface {
	// SaveFlowStep saves x as SaveFlowExecution does (compare-and-set on
	// version; EConflict when the stored one moved on) and stores each
	// reply as MessageService.StoreOutbound does (its client id makes a
	// repeat store nothing), in the same transaction: when any part fails
	// nothing is stored. Every reply must be in x's conversation.
	SaveFlowStep(ctx context.Context, x *FlowExecution, version int64, replies []*OutboundMessage) error
}

// MapHeaders returns a copy of f in which every value of every widget's
// "headers" property (the HTTP widget's request headers, which carry API
// keys and Authorization) has passed through fn; f itself is unchanged.
// The store seals header values with it, and the change feed carries them
// as Redacted. Widgets without headers are copied as they are.
func (f *Flow) MapHeaders(fn func(widget, name, value string) (string, error)) (*Flow, error) {
	if f == nil {
		return nil, nil
	}
	out := *f
	out.Widgets = make([]FlowWidget, len(f.Widgets))
	copy(out.Widgets, f.Widgets)
	for i, w := range out.Widgets {
		var props map[string]json.RawMessage
		if len(w.Properties) == 0 || json.Unmarshal(w.Properties, &props) != nil || props["headers"] == nil {
			continue
		}
		var headers map[string]string
		if err := json.Unmarshal(props["headers"], &headers); err != nil || len(headers) == 0 {
			continue // not a header map: the widget's own validation reports it
		}
		for name, v := range headers {
			nv, err := fn(w.Name, name, v)
			if err != nil {
				return nil, err
			}
			headers[name] = nv
		}
		var err error
		if props["headers"], err = json.Marshal(headers); err != nil {
			return nil, err
		}
		if out.Widgets[i].Properties, err = json.Marshal(props); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

// Redacted returns a copy of f with every header value replaced by
// Redacted, as the change feed carries flows.
func (f *Flow) Redacted() *Flow {
	out, _ := f.MapHeaders(func(_, _, v string) (string, error) {
		if v == "" {
			return v, nil
		}
		return Redacted, nil
	})
	return out
}
