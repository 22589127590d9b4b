package flow

import "switchboard/backend"

// Clock is the engine's time source; see backend.Clock.
type Clock = backend.Clock

// SystemClock is the wall clock.
type SystemClock = backend.SystemClock

// FakeClock is a Clock for tests that moves only when Advance is called.
type FakeClock = backend.FakeClock

// NewFakeClock returns a FakeClock at t.
var NewFakeClock = backend.NewFakeClock
