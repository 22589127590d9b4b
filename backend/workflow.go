package backend

import "time"

// Workflow decides which queue a task waits in: its filters are tried in
// order and the first whose expression matches the task routes it through
// its targets; the default targets catch the rest.
type Workflow struct {
	ID      string           `json:"id"`
	Name    string           `json:"name"`
	Filters []WorkflowFilter `json:"filters"`
	// Default routes tasks no filter matches, and tasks whose filter's
	// targets all timed out. It needs at least one target.
	Default []WorkflowTarget `json:"default"`
	// ReservationTimeoutSeconds is how long a worker has to answer an
	// offer; 0 means the engine's default.
	ReservationTimeoutSeconds int `json:"reservationTimeoutSeconds,omitempty"`
	// ReofferSeconds is the cool-down before a task that every eligible
	// worker declined (or let expire) is offered to them again; 0 means the
	// reservation timeout.
	ReofferSeconds int `json:"reofferSeconds,omitempty"`
	// WrapUpSeconds limits wrap-up: a task still wrapping after this long
	// is completed with the disposition chosen so far; 0 means no limit.
	WrapUpSeconds int       `json:"wrapUpSeconds,omitempty"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// WorkflowFilter matches tasks by an expression over task attributes, such
// as `task.language == "es" && task.vip`.
type WorkflowFilter struct {
	Name       string           `json:"name"`
	Expression string           `json:"expression"`
	Targets    []WorkflowTarget `json:"targets"`
}

// WorkflowTarget is one step of a filter: a queue, optionally narrowed by a
// further worker expression.
type WorkflowTarget struct {
	QueueID string `json:"queueId"`
	// Expression further narrows the queue's workers, over worker and
	// task attributes, such as `worker.level >= 2`.
	Expression string `json:"expression,omitempty"`
	// Priority, when set, replaces the task's priority at this target.
	Priority *int `json:"priority,omitempty"`
	// TimeoutSeconds escalates the task to the next target when it has
	// waited that long here; 0 waits forever.
	TimeoutSeconds int `json:"timeoutSeconds,omitempty"`
	// SkipIfNoWorkers passes over this target when no eligible worker is
	// available as the task arrives (never the last target).
	SkipIfNoWorkers bool `json:"skipIfNoWorkers,omitempty"`
}
