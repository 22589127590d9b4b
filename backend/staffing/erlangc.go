// Package staffing sizes a queue's team with the Erlang C model: calls
// (or chats) arrive at random (Poisson), take an exponentially distributed
// handle time, and wait in line when every agent is busy. It imports only
// the standard library.
package staffing

import (
	"errors"
	"math"
	"time"
)

// MaxAgents bounds AgentsNeeded's search.
const MaxAgents = 10000

// ErrOverloaded is returned when no number of agents up to MaxAgents meets
// the goal.
var ErrOverloaded = errors.New("staffing: the load needs more than MaxAgents agents")

// Traffic returns the offered load in Erlangs: arrivals per second times
// the average handle time.
func Traffic(perSecond float64, aht time.Duration) float64 {
	return perSecond * aht.Seconds()
}

// WaitProbability is Erlang C: the chance that an arrival waits, with
// agents serving traffic Erlangs. It is 1 when agents cannot keep up
// (agents ≤ traffic). The terms are built one from the last (A^k/k!
// grows by A/k), so large teams neither overflow nor lose precision.
func WaitProbability(agents int, traffic float64) float64 {
	if traffic <= 0 {
		return 0
	}
	n := float64(agents)
	if n <= traffic {
		return 1
	}
	// Erlang B by its recurrence, then C from B.
	b := 1.0
	for k := 1; k <= agents; k++ {
		b = traffic * b / (float64(k) + traffic*b)
	}
	return n * b / (n - traffic*(1-b))
}

// ServiceLevel returns the share of arrivals answered within target.
func ServiceLevel(agents int, traffic float64, aht, target time.Duration) float64 {
	if traffic <= 0 {
		return 1
	}
	if float64(agents) <= traffic {
		return 0
	}
	pw := WaitProbability(agents, traffic)
	return 1 - pw*math.Exp(-(float64(agents)-traffic)*target.Seconds()/aht.Seconds())
}

// AverageSpeedOfAnswer returns the mean wait over all arrivals.
func AverageSpeedOfAnswer(agents int, traffic float64, aht time.Duration) time.Duration {
	if traffic <= 0 {
		return 0
	}
	if float64(agents) <= traffic {
		return time.Duration(math.MaxInt64)
	}
	s := WaitProbability(agents, traffic) * aht.Seconds() / (float64(agents) - traffic)
	return time.Duration(s * float64(time.Second))
}

// AgentsNeeded returns the fewest agents who answer at least goal (0 to 1)
// of arrivals within target, for traffic Erlangs of handle time aht. No
// traffic needs no agent. Returns ErrOverloaded past MaxAgents.
func AgentsNeeded(traffic float64, aht, target time.Duration, goal float64) (int, error) {
	if traffic <= 0 {
		return 0, nil
	}
	for n := int(math.Floor(traffic)) + 1; n <= MaxAgents; n++ {
		if ServiceLevel(n, traffic, aht, target) >= goal {
			return n, nil
		}
	}
	return 0, ErrOverloaded
}
