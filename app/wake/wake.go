// Package wake notices that the computer woke from sleep, so the desktop
// can reconnect at once instead of waiting for a connection that died
// while it slept to time out. The system's monotonic clock stops while the
// machine sleeps and the wall clock does not: when the wall clock moved
// further than the monotonic one between two looks, the difference is how
// long the machine slept.
package wake

import (
	"context"
	"time"
)

// Detector calls OnWake after the machine slept.
type Detector struct {
	// Interval is how often it looks (default 5 s).
	Interval time.Duration
	// Threshold is the shortest sleep reported (default 3 s), above the
	// drift the two clocks show while awake.
	Threshold time.Duration
	// OnWake is called with how long the machine slept.
	OnWake func(slept time.Duration)
	// Now reads the wall clock and a monotonic clock; tests replace it.
	Now func() (wall time.Time, mono time.Duration)

	lastWall time.Time
	lastMono time.Duration
}

// Run looks every Interval until ctx ends.
func (d *Detector) Run(ctx context.Context) {
	if d.Interval == 0 {
		d.Interval = 5 * time.Second
	}
	tick := time.NewTicker(d.Interval)
	defer tick.Stop()
	d.Check()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			d.Check()
		}
	}
}

// Check takes one look and calls OnWake when the machine slept since the
// previous one. Run calls it; it is not safe for concurrent use.
func (d *Detector) Check() {
	if d.Now == nil {
		start := time.Now()
		d.Now = func() (time.Time, time.Duration) {
			now := time.Now()
			return now.Round(0), now.Sub(start) // Round(0) drops the monotonic reading
		}
	}
	if d.Threshold == 0 {
		d.Threshold = 3 * time.Second
	}
	wall, mono := d.Now()
	first := d.lastWall.IsZero()
	slept := wall.Sub(d.lastWall) - (mono - d.lastMono)
	d.lastWall, d.lastMono = wall, mono
	if !first && slept >= d.Threshold && d.OnWake != nil {
		d.OnWake(slept)
	}
}
