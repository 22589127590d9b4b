package backend

import (
	"context"
	"time"
)

// EventSupervisorLive names the frame that pushes the supervisor's live
// view (a LiveView) over the WebSocket after routing or calls change. It is
// not kept in the change log: each frame replaces the last. Only
// supervisors and admins receive it.
const EventSupervisorLive = "supervisor.live"

// Agent states on the live view: what a worker is doing, whatever their
// activity is called.
const (
	// AgentAvailable is in an available activity and holds no task.
	AgentAvailable = "available"
	// AgentBusy holds at least one task (offered, assigned or wrapping).
	AgentBusy = "busy"
	// AgentAway is in an unavailable activity other than Offline.
	AgentAway = "away"
	// AgentOffline is in the Offline activity.
	AgentOffline = "offline"
)

// LiveView is the supervisor's picture of the contact center now.
type LiveView struct {
	At     time.Time   `json:"at"`
	Queues []QueueLive `json:"queues"`
	Agents []AgentLive `json:"agents"`
}

// AgentCounts counts the workers serving a queue by AgentState.
type AgentCounts struct {
	Available int `json:"available"`
	Busy      int `json:"busy"`
	Away      int `json:"away"`
	Offline   int `json:"offline"`
}

// QueueLive is one queue on the live view: its open tasks now, the agents
// who serve it and today's figures.
type QueueLive struct {
	QueueID string `json:"queueId"`
	Name    string `json:"name"`
	// Tasks maps an open state to the queue's tasks in it; Waiting is the
	// pending ones.
	Tasks              map[string]int `json:"tasks"`
	Waiting            int            `json:"waiting"`
	LongestWaitSeconds float64        `json:"longestWaitSeconds"`
	Agents             AgentCounts    `json:"agents"`
	// Today covers the tasks created since local midnight.
	Today      Figures `json:"today"`
	SLASeconds int     `json:"slaSeconds"`
	// Alert lists the thresholds the queue is past now ("longest wait",
	// "waiting"); empty when it is fine.
	Alert []string `json:"alert"`
}

// AgentLive is one worker on the live view.
type AgentLive struct {
	WorkerID string `json:"workerId"`
	UserID   string `json:"userId,omitempty"`
	Name     string `json:"name"`
	Activity string `json:"activity"`
	// State is one of AgentAvailable, AgentBusy, AgentAway, AgentOffline.
	State         string    `json:"state"`
	ActivitySince time.Time `json:"activitySince"`
	// Load and Capacity map a task channel to the tasks held on it and how
	// many the worker takes at once; Capacity lists every channel in Load
	// and every channel the worker sets.
	Load     map[string]int `json:"load"`
	Capacity map[string]int `json:"capacity"`
	Calls    []LiveCall     `json:"calls"`
	Today    AgentDay       `json:"today"`
}

// LiveCall is a call in progress on an agent's line.
type LiveCall struct {
	CallID         string    `json:"callId"`
	ConversationID string    `json:"conversationId"`
	StartedAt      time.Time `json:"startedAt"`
}

// AgentDay is one worker's work since local midnight.
type AgentDay struct {
	// Handled counts tasks the worker completed.
	Handled          int64   `json:"handled"`
	AvgHandleSeconds float64 `json:"avgHandleSeconds"`
	// Rejected and TimedOut count offers the worker declined or let expire.
	Rejected int64 `json:"rejected"`
	TimedOut int64 `json:"timedOut"`
}

// Figures are the report's measures over a set of tasks.
type Figures struct {
	// Volume counts tasks created; Answered those accepted by an agent;
	// Abandoned those canceled before anyone accepted them.
	Volume    int64 `json:"volume"`
	Answered  int64 `json:"answered"`
	Abandoned int64 `json:"abandoned"`
	// Handled counts tasks completed.
	Handled int64 `json:"handled"`
	// AvgWaitSeconds is the mean time from creation to first accept over
	// answered tasks; AvgHandleSeconds from accept to end over handled ones.
	AvgWaitSeconds   float64 `json:"avgWaitSeconds"`
	AvgHandleSeconds float64 `json:"avgHandleSeconds"`
	// AvgFirstResponseSeconds is the mean time from a task's creation to
	// the first reply an agent sent in its conversation, over tasks that
	// got one.
	AvgFirstResponseSeconds float64 `json:"avgFirstResponseSeconds"`
	// WithinSLA counts answered tasks accepted within their queue's SLA
	// threshold; SLAPercent is its share of answered and abandoned tasks.
	WithinSLA  int64   `json:"withinSla"`
	SLAPercent float64 `json:"slaPercent"`
}

// Report groupings.
const (
	ReportByChannel = "channel"
	ReportByQueue   = "queue"
	ReportByAgent   = "agent"
	ReportByNone    = ""
)

// ReportQuery asks for figures over tasks created in [From, To), per
// period (day or week, in Location) and optionally per channel, queue or
// agent.
type ReportQuery struct {
	From, To time.Time
	// Week groups by ISO week (starting Monday) instead of by day.
	Week bool
	// By is ReportByChannel, ReportByQueue, ReportByAgent or ReportByNone.
	By string
	// Location is the time zone days start in; nil is UTC.
	Location *time.Location
}

// ReportRow is one period (and group) of a report.
type ReportRow struct {
	// Period is the day or the week's Monday, as YYYY-MM-DD.
	Period string `json:"period"`
	// Group is the channel, queue ID or worker ID ("" when not grouped).
	Group string `json:"group"`
	Figures
}

// ReportService computes supervisors' figures from stored tasks and
// reservations.
type ReportService interface {
	// Report returns one row per period and group with any task, in order.
	// Returns EInvalid for a bad range or grouping.
	Report(ctx context.Context, q ReportQuery) ([]ReportRow, error)
	// QueueFigures returns, per queue ID, the figures of tasks created in
	// [from, to).
	QueueFigures(ctx context.Context, from, to time.Time) (map[string]Figures, error)
	// AgentFigures returns, per worker ID, the tasks completed and the
	// offers declined or expired in [from, to).
	AgentFigures(ctx context.Context, from, to time.Time) (map[string]AgentDay, error)
	// QueueHistory returns, per queue ID (every queue, with or without
	// tasks), one sample at each of at (in ascending order); a sample's
	// SLA share covers the tasks created since midnight in loc (UTC when
	// nil). Returns EInvalid for times out of order.
	QueueHistory(ctx context.Context, at []time.Time, loc *time.Location) (map[string][]QueueSample, error)
}

// QueueSample is a queue's state at one instant of the past, for the
// supervisor's chart.
type QueueSample struct {
	At time.Time `json:"at"`
	// Unanswered counts the queue's tasks that had arrived and that no
	// agent had yet accepted or that were not yet canceled (waiting or
	// offered).
	Unanswered int `json:"unanswered"`
	// SLAPercent is the day's SLA share as it stood at At (Figures'
	// SLAPercent); nil before any task of the day left the queue.
	SLAPercent *float64 `json:"slaPercent"`
}

// QueueHistory is the supervisor's chart of the past: per queue ID, its
// samples from From to To, Step apart.
type QueueHistory struct {
	From   time.Time                `json:"from"`
	To     time.Time                `json:"to"`
	Step   int                      `json:"stepSeconds"`
	Queues map[string][]QueueSample `json:"queues"`
}

// RoutingLive is the router's state for the live view, taken at one
// instant.
type RoutingLive struct {
	At      time.Time
	Queues  []*Queue
	Workers []*Worker
	// Stats holds each queue's live figures, by queue ID.
	Stats map[string]*QueueStats
	// Members lists, by queue ID, the IDs of the workers who serve it.
	Members map[string][]string
	// Load maps a worker ID to the tasks it holds per channel.
	Load map[string]map[string]int
}
