package backend

import "time"

// Task states. A task moves pending → reserved → assigned → wrapping →
// completed, may fall back from reserved to pending when an offer is
// rejected or times out, and ends canceled if the customer leaves first.
const (
	TaskPending   = "pending"
	TaskReserved  = "reserved"
	TaskAssigned  = "assigned"
	TaskWrapping  = "wrapping"
	TaskCompleted = "completed"
	TaskCanceled  = "canceled"
)

// Task is one piece of work for an agent: a call, a chat or an email.
type Task struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	// Attributes come from the flow (language, department, vip …);
	// expressions see them as task.<name>.
	Attributes map[string]any `json:"attributes"`
	// Priority orders tasks in a queue: higher first.
	Priority       int    `json:"priority"`
	ConversationID string `json:"conversationId,omitempty"`
	State          string `json:"state"`
	// WorkflowID is the workflow routing the task; empty when the task was
	// sent or transferred straight to a queue.
	WorkflowID string `json:"workflowId,omitempty"`
	// Filter names the workflow filter that matched ("default" for the
	// workflow's default targets).
	Filter string `json:"filter,omitempty"`
	// FilterIndex is the matched filter's position, -1 for the default.
	FilterIndex int `json:"filterIndex"`
	// TargetIndex is the position of the current target in that filter.
	TargetIndex int    `json:"targetIndex"`
	QueueID     string `json:"queueId"`
	// TargetExpiresAt is when the task escalates to the next target; zero
	// when the current target has no timeout.
	TargetExpiresAt time.Time `json:"targetExpiresAt,omitzero"`
	// WorkerID is the worker holding the task while reserved, assigned or
	// wrapping, and the last one who did afterwards.
	WorkerID string `json:"workerId,omitempty"`
	// RejectedBy lists workers who rejected the task or let its offer time
	// out; it is not offered to them again until RetryAt.
	RejectedBy []string `json:"rejectedBy,omitempty"`
	// RetryAt is when the workers in RejectedBy may be offered the task
	// again, if it still waits then (the cool-down after the last decline).
	RetryAt     time.Time `json:"retryAt,omitzero"`
	Reason      string    `json:"reason,omitempty"`
	Disposition string    `json:"disposition,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	AssignedAt  time.Time `json:"assignedAt,omitzero"`
	// WrapUpAt is when the task entered wrap-up; WrapUpEndsAt, when set, is
	// when wrap-up ends by itself (the workflow's wrap-up limit).
	WrapUpAt     time.Time `json:"wrapUpAt,omitzero"`
	WrapUpEndsAt time.Time `json:"wrapUpEndsAt,omitzero"`
	EndedAt      time.Time `json:"endedAt,omitzero"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// Open reports whether the task is neither completed nor canceled.
func (t *Task) Open() bool { return t.State != TaskCompleted && t.State != TaskCanceled }

// TaskInput is what a flow hands the router to create a task.
type TaskInput struct {
	// Channel is the kind of work: voice, chat, email or a custom one.
	Channel    string
	Attributes map[string]any
	Priority   int
	// ConversationID links the task to the conversation it serves.
	ConversationID string
	// WorkflowID picks the workflow; QueueID instead sends the task
	// straight to one queue. With neither, the oldest workflow (the
	// workspace's default) is used.
	WorkflowID string
	QueueID    string
}

// TransferTarget names where TransferTask moves an assigned task: one
// worker, or one queue. Exactly one must be set.
type TransferTarget struct {
	WorkerID string
	QueueID  string
}

// Reservation states.
const (
	ReservationPending     = "pending"
	ReservationAccepted    = "accepted"
	ReservationRejected    = "rejected"
	ReservationTimeout     = "timeout"
	ReservationRescinded   = "rescinded"
	ReservationCanceled    = "canceled"
	ReservationWrapping    = "wrapping"
	ReservationCompleted   = "completed"
	ReservationTransferred = "transferred"
)

// Reservation is an offer of one task to one worker, and once accepted the
// worker's hold on it. A task has at most one active reservation (pending,
// accepted or wrapping) at any time.
type Reservation struct {
	ID       string `json:"id"`
	TaskID   string `json:"taskId"`
	WorkerID string `json:"workerId"`
	// Channel and QueueID are the task's, copied for the desktop.
	Channel   string    `json:"channel"`
	QueueID   string    `json:"queueId"`
	State     string    `json:"state"`
	ExpiresAt time.Time `json:"expiresAt"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Active reports whether the reservation still holds the worker's capacity.
func (r *Reservation) Active() bool {
	return r.State == ReservationPending || r.State == ReservationAccepted || r.State == ReservationWrapping
}

// MissedOffer is an offer that expired before the worker answered it. The
// store appends it to the change feed as an EventOfferMissed, so the agent
// who missed it is told.
type MissedOffer struct {
	ReservationID  string    `json:"reservationId"`
	TaskID         string    `json:"taskId"`
	WorkerID       string    `json:"workerId"`
	ConversationID string    `json:"conversationId,omitempty"`
	Channel        string    `json:"channel"`
	QueueID        string    `json:"queueId"`
	OfferedAt      time.Time `json:"offeredAt"`
	ExpiredAt      time.Time `json:"expiredAt"`
}

// TaskFilter narrows Engine.Tasks. Empty fields match all open tasks.
type TaskFilter struct {
	QueueID  string
	WorkerID string
	State    string
	// ConversationID selects the open task of one conversation.
	ConversationID string
}
