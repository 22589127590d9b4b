package discord

import "time"

// FastWaits shortens the pause before a new Identify for tests.
func FastWaits() {
	reidentifyWait = func() time.Duration { return 10 * time.Millisecond }
}
