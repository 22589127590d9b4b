package backend

import "time"

// DefaultSLA is the answer-time threshold a queue's service level counts
// against unless it sets its own.
const DefaultSLA = 20 * time.Second

// Queue holds tasks waiting for workers that match its target expression.
type Queue struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// TargetWorkers is an expr-lang expression over worker and task
	// attributes, such as `"billing" in worker.skills`. Empty means every
	// worker.
	TargetWorkers string `json:"targetWorkers"`
	// OrderBy names a worker attribute to offer by (highest first, or
	// lowest with OrderAscending); empty offers the longest idle first.
	OrderBy        string `json:"orderBy,omitempty"`
	OrderAscending bool   `json:"orderAscending,omitempty"`
	// LIFO hands out the newest task of a priority first.
	LIFO bool `json:"lifo,omitempty"`
	// SLASeconds is the answer-time threshold for the service level;
	// 0 means DefaultSLA.
	SLASeconds int `json:"slaSeconds"`
	// AlertWaitSeconds and AlertWaiting are the thresholds past which the
	// supervisor's live view shows the queue in alarm: the oldest waiting
	// task's age (0 means the SLA threshold) and the number of waiting
	// tasks (0 means no limit).
	AlertWaitSeconds int       `json:"alertWaitSeconds,omitempty"`
	AlertWaiting     int       `json:"alertWaiting,omitempty"`
	CreatedAt        time.Time `json:"createdAt"`
	UpdatedAt        time.Time `json:"updatedAt"`
}

// SLA returns the queue's answer-time threshold.
func (q *Queue) SLA() time.Duration {
	if q.SLASeconds > 0 {
		return time.Duration(q.SLASeconds) * time.Second
	}
	return DefaultSLA
}

// Alerts returns the thresholds a queue with waiting tasks, the oldest
// longestWait old, is past: "longest wait" and "waiting".
func (q *Queue) Alerts(waiting int, longestWait time.Duration) []string {
	out := []string{}
	limit := q.SLA()
	if q.AlertWaitSeconds > 0 {
		limit = time.Duration(q.AlertWaitSeconds) * time.Second
	}
	if waiting > 0 && longestWait >= limit {
		out = append(out, "longest wait")
	}
	if q.AlertWaiting > 0 && waiting >= q.AlertWaiting {
		out = append(out, "waiting")
	}
	return out
}

// RoutingCounters are cumulative routing counts for a queue or a worker.
// Durations are summed in milliseconds so averages survive restarts.
type RoutingCounters struct {
	Offered  int64 `json:"offered"`
	Accepted int64 `json:"accepted"`
	Rejected int64 `json:"rejected"`
	TimedOut int64 `json:"timedOut"`
	// Canceled counts, for a queue, tasks canceled before an answer; for a
	// worker, offers withdrawn because the task was canceled or transferred
	// or the worker went unavailable.
	Canceled  int64 `json:"canceled"`
	Completed int64 `json:"completed"`
	// Answered counts tasks accepted for the first time (not after a
	// transfer); waits and the SLA count only these.
	Answered int64 `json:"answered"`
	// WaitMillis sums, over answered tasks, the time from creation to accept.
	WaitMillis int64 `json:"waitMillis"`
	// HandleMillis sums, over completed tasks, the time from accept to end.
	HandleMillis int64 `json:"handleMillis"`
	// WithinSLA counts tasks accepted within the queue's SLA threshold.
	WithinSLA int64 `json:"withinSla"`
}

// QueueStats are a queue's live figures and cumulative counters.
type QueueStats struct {
	QueueID string `json:"queueId"`
	// Tasks maps a state (pending, reserved, assigned, wrapping) to the
	// number of open tasks of the queue in it.
	Tasks map[string]int `json:"tasks"`
	// LongestWaitSeconds is the age of the oldest pending task.
	LongestWaitSeconds float64 `json:"longestWaitSeconds"`
	// EligibleWorkers match the target expression; AvailableWorkers are
	// those of them in an available activity. An expression that reads
	// task attributes is judged here with none set.
	EligibleWorkers  int `json:"eligibleWorkers"`
	AvailableWorkers int `json:"availableWorkers"`
	RoutingCounters
	AvgWaitSeconds   float64 `json:"avgWaitSeconds"`
	AvgHandleSeconds float64 `json:"avgHandleSeconds"`
	// SLAPercent is the share, in percent, of tasks that left the queue
	// (accepted or canceled) that were accepted within the SLA threshold.
	SLAPercent float64 `json:"slaPercent"`
	SLASeconds int     `json:"slaSeconds"`
}
