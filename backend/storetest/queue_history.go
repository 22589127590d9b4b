package storetest

import (
	"testing"
	"time"

	"switchboard/backend"
)

// testQueueHistoryPastHourFromTasks builds the chart of an hour from the
// stored tasks: a call that waits from the day before (and is canceled in
// the hour), a call abandoned in the hour, a chat answered 10 s after it
// arrived and two calls that arrive at the same instant.
func testQueueHistoryPastHourFromTasks(t *testing.T, sh harness) {
	h := mustReportHarness(t, sh)
	// Monday 09:00: a call nobody takes (Ana takes no calls).
	x, _ := h.task(backend.ChannelVoice, "")
	h.until(time.Date(2026, 3, 3, 8, 50, 0, 0, time.UTC))
	y, _ := h.task(backend.ChannelVoice, "")
	h.clock.Advance(20 * time.Minute) // 09:10
	_, err := h.e.CancelTask(h.ctx, y.ID, "hangup")
	h.must(err)
	h.clock.Advance(10 * time.Minute) // 09:20
	_, z := h.task(backend.ChannelChat, "")
	h.clock.Advance(10 * time.Second)
	h.accept(z)
	h.until(time.Date(2026, 3, 3, 9, 30, 0, 0, time.UTC))
	h.task(backend.ChannelVoice, "")
	h.task(backend.ChannelVoice, "")
	h.clock.Advance(5 * time.Minute) // 09:35
	_, err = h.e.CancelTask(h.ctx, x.ID, "hangup")
	h.must(err)
	h.until(time.Date(2026, 3, 3, 9, 50, 0, 0, time.UTC))

	var at []time.Time
	for i := range 7 {
		at = append(at, time.Date(2026, 3, 3, 8, 50+10*i, 0, 0, time.UTC))
	}
	hist, err := h.db.QueueHistory(h.ctx, at, time.UTC)
	h.must(err)
	samples := hist[h.queue.ID]
	if len(hist) != 1 || len(samples) != len(at) {
		t.Fatalf("history = %+v", hist)
	}
	wantUnanswered := []int{2, 2, 1, 2, 3, 2, 2}
	// Percent of Tuesday's tasks: none left, Y abandoned, Z answered in 10 s (SLA 35 s).
	wantSLA := []float64{-1, -1, 0, 0, 50, 50, 50}
	for i, s := range samples {
		if !s.At.Equal(at[i]) || s.Unanswered != wantUnanswered[i] {
			t.Errorf("%s: unanswered = %d, want %d", at[i].Format("15:04"), s.Unanswered, wantUnanswered[i])
		}
		switch {
		case wantSLA[i] < 0 && s.SLAPercent != nil:
			t.Errorf("%s: SLA = %v, want none", at[i].Format("15:04"), *s.SLAPercent)
		case wantSLA[i] >= 0 && (s.SLAPercent == nil || !near(*s.SLAPercent, wantSLA[i])):
			t.Errorf("%s: SLA = %v, want %v", at[i].Format("15:04"), s.SLAPercent, wantSLA[i])
		}
	}
	// The last sample is now: it agrees with today's figures.
	today, err := h.db.QueueFigures(h.ctx, time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC))
	h.must(err)
	if f := today[h.queue.ID]; !near(f.SLAPercent, *samples[6].SLAPercent) {
		t.Errorf("today's SLA %v, the chart's last %v", f.SLAPercent, *samples[6].SLAPercent)
	}

	if _, err := h.db.QueueHistory(h.ctx, []time.Time{at[1], at[0]}, nil); backend.ErrorCode(err) != backend.EInvalid {
		t.Errorf("times out of order: err = %v", err)
	}
}

// until advances the clock to t.
func (h *reportHarness) until(t time.Time) { h.clock.Advance(t.Sub(h.clock.Now())) }
