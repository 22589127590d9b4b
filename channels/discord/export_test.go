package discord

import "time"

// FastWaits shortens the pauses between connections for tests.
func FastWaits() {
	reidentifyWait = func() time.Duration { return 10 * time.Millisecond }
	retryWait = func(int) time.Duration { return 20 * time.Millisecond }
}
