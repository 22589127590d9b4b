package backend

import "time"

// Task channels the router knows by default. A channel is the kind of work
// (and so of capacity), not the platform it came from: an SMS and a web chat
// are both "chat".
const (
	ChannelVoice = "voice"
	ChannelChat  = "chat"
	ChannelEmail = "email"
)

// DefaultCapacity is how many tasks of a channel a worker handles at once
// unless the worker says otherwise: one call, three chats, five emails, and
// one of any other channel.
func DefaultCapacity(channel string) int {
	switch channel {
	case ChannelVoice:
		return 1
	case ChannelChat:
		return 3
	case ChannelEmail:
		return 5
	}
	return 1
}

// The activities every workspace starts with.
const (
	ActivityAvailable = "Available"
	ActivityBreak     = "Break"
	ActivityLunch     = "Lunch"
	ActivityOffline   = "Offline"
)

// Activity is what a worker is doing; only workers in an available activity
// receive offers.
type Activity struct {
	Name      string    `json:"name"`
	Available bool      `json:"available"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Worker is an agent as the router sees them: attributes that target
// expressions read, an activity, and a capacity per task channel.
type Worker struct {
	ID string `json:"id"`
	// UserID ties the worker to the User who signs in as them.
	UserID string `json:"userId,omitempty"`
	Name   string `json:"name"`
	// Attributes are free-form (skills, languages, level …); expressions
	// see them as worker.<name>.
	Attributes map[string]any `json:"attributes"`
	// Activity names one of the workspace's activities.
	Activity string `json:"activity"`
	// Available mirrors the activity's availability.
	Available bool `json:"available"`
	// Capacity maps a task channel to how many tasks of it the worker takes
	// at once. Channels not listed use DefaultCapacity; 0 means never.
	Capacity map[string]int `json:"capacity"`
	// IdleSince is when the worker last became available or accepted a
	// task; the longest idle worker is offered first.
	IdleSince         time.Time `json:"idleSince"`
	ActivityChangedAt time.Time `json:"activityChangedAt"`
	CreatedAt         time.Time `json:"createdAt"`
	UpdatedAt         time.Time `json:"updatedAt"`
}

// CapacityFor returns how many tasks of channel w takes at once.
func (w *Worker) CapacityFor(channel string) int {
	if n, ok := w.Capacity[channel]; ok {
		return n
	}
	return DefaultCapacity(channel)
}

// WorkerStats are a worker's cumulative routing counters.
type WorkerStats struct {
	WorkerID string `json:"workerId"`
	RoutingCounters
	// AvgHandleSeconds is the mean time from accept to completion.
	AvgHandleSeconds float64 `json:"avgHandleSeconds"`
	// Load maps a channel to the tasks the worker holds on it now
	// (offered, assigned or wrapping).
	Load map[string]int `json:"load"`
}
