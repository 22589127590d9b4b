package storekit

import (
	"context"
	"slices"
	"time"

	"switchboard/backend"
)

// HistoryTask is what the supervisor's chart of the past needs of one
// stored task.
type HistoryTask struct {
	Queue string
	// Created is when the task arrived; Answered its first accept and
	// Ended its end (zero: not yet).
	Created, Answered, Ended time.Time
	// Canceled says the task ended without being completed.
	Canceled bool
	// WaitMillis is the wait until the first accept, nil before any.
	WaitMillis *int64
}

// HistoryReader reads the tasks created in [day, last] and those created
// before day which were still waiting at from: open ones, or ones that
// stopped waiting (first accept, or end when nobody accepted) at from or
// later. A task may be returned only once.
type HistoryReader func(ctx context.Context, day, from, last time.Time) ([]HistoryTask, error)

// QueueHistory implements backend.ReportService's QueueHistory for a
// store: qs are the stored queues and read reads the tasks; the counting
// is done here so every store counts alike. Returns EInvalid for sample
// times out of order.
func QueueHistory(ctx context.Context, qs []*backend.Queue, at []time.Time, loc *time.Location, read HistoryReader) (map[string][]backend.QueueSample, error) {
	if err := checkHistoryTimes(at); err != nil {
		return nil, err
	}
	if loc == nil {
		loc = time.UTC
	}
	out := make(map[string][]backend.QueueSample, len(qs))
	sla := make(map[string]time.Duration, len(qs))
	for _, q := range qs {
		out[q.ID] = make([]backend.QueueSample, len(at))
		sla[q.ID] = q.SLA()
		for i, t := range at {
			out[q.ID][i].At = t
		}
	}
	if len(at) == 0 || len(qs) == 0 {
		return out, nil
	}
	first, last := at[0], at[len(at)-1]
	tasks, err := read(ctx, midnight(first, loc), first, last)
	if err != nil {
		return nil, err
	}
	for _, tk := range tasks {
		samples, ok := out[tk.Queue]
		if !ok {
			continue // a deleted queue
		}
		until := tk.waitedUntil()
		for i, t := range at {
			if !tk.Created.After(t) && (until.IsZero() || until.After(t)) {
				samples[i].Unanswered++
			}
		}
	}
	for id, samples := range out {
		for i := range samples {
			samples[i].SLAPercent = slaAt(tasks, id, sla[id], samples[i].At, loc)
		}
	}
	return out, nil
}

// checkHistoryTimes returns EInvalid unless the chart's sample times are
// in order.
func checkHistoryTimes(at []time.Time) error {
	if !slices.IsSortedFunc(at, func(a, b time.Time) int { return a.Compare(b) }) {
		return backend.Errorf(backend.EInvalid, "The chart's sample times must be in order.")
	}
	return nil
}

// waitedUntil is when a task stopped waiting for an answer: its first
// accept, or its end when nobody accepted it; zero while it still waits.
func (tk HistoryTask) waitedUntil() time.Time {
	if !tk.Answered.IsZero() {
		return tk.Answered
	}
	return tk.Ended
}

// slaAt is a queue's SLA share at t over the tasks created since t's
// midnight, counted as FinishFigures does with what had happened by t.
func slaAt(tasks []HistoryTask, queue string, sla time.Duration, t time.Time, loc *time.Location) *float64 {
	day := midnight(t, loc)
	var within, left int
	for _, tk := range tasks {
		if tk.Queue != queue || tk.Created.Before(day) || tk.Created.After(t) {
			continue
		}
		switch {
		case !tk.Answered.IsZero() && !tk.Answered.After(t):
			left++
			if tk.WaitMillis != nil && *tk.WaitMillis <= sla.Milliseconds() {
				within++
			}
		case tk.Answered.IsZero() && tk.Canceled && !tk.Ended.After(t):
			left++
		}
	}
	if left == 0 {
		return nil
	}
	p := 100 * float64(within) / float64(left)
	return &p
}

// midnight is the start of t's day in loc.
func midnight(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}
