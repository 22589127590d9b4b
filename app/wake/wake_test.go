package wake_test

import (
	"testing"
	"time"

	"switchboard/app/wake"
)

func TestDetector_ReportsTheTimeTheMachineSlept(t *testing.T) {
	wall := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	var mono time.Duration
	var woke []time.Duration
	d := &wake.Detector{OnWake: func(s time.Duration) { woke = append(woke, s) },
		Now: func() (time.Time, time.Duration) { return wall, mono }}
	step := func(wallMoves, monoMoves time.Duration) {
		wall, mono = wall.Add(wallMoves), mono+monoMoves
		d.Check()
	}
	d.Check()
	step(5*time.Second, 5*time.Second)                      // awake
	step(5*time.Second+200*time.Millisecond, 5*time.Second) // small drift (NTP, scheduling)
	step(45*time.Minute, 5*time.Second)                     // slept ~45 minutes
	step(5*time.Second, 5*time.Second)                      // awake again
	step(-time.Hour, 5*time.Second)                         // clock set back: not a sleep
	if len(woke) != 1 || woke[0] != 45*time.Minute-5*time.Second {
		t.Fatalf("OnWake calls: %v, want one of 44m55s", woke)
	}
}
