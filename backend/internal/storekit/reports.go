package storekit

import (
	"time"

	"switchboard/backend"
)

// MaxReportPeriods bounds a report's range: about three years by day.
const MaxReportPeriods = 1200

// ReportColumn returns the task column a report groups by ("" for none).
// Returns EInvalid for an unknown grouping.
func ReportColumn(by string) (string, error) {
	switch by {
	case backend.ReportByNone:
		return "", nil
	case backend.ReportByChannel:
		return "channel", nil
	case backend.ReportByQueue:
		return "queue_id", nil
	case backend.ReportByAgent:
		return "worker_id", nil
	}
	return "", backend.Errorf(backend.EInvalid, "Reports group by channel, queue or agent, not %q.", by)
}

// ReportPeriod is one day or ISO week of a report, clipped to its range.
type ReportPeriod struct {
	// Label is the day or the week's Monday, as YYYY-MM-DD.
	Label  string
	Lo, Hi time.Time
}

// ReportPeriods splits [q.From, q.To) into days or ISO weeks in
// q.Location, cut in Go so days follow the time zone's daylight-saving
// changes. Returns EInvalid for an empty or too long range.
func ReportPeriods(q backend.ReportQuery) ([]ReportPeriod, error) {
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	if !q.From.Before(q.To) {
		return nil, backend.Errorf(backend.EInvalid, "A report needs a start before its end.")
	}
	from := q.From.In(loc)
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc)
	step := 1
	if q.Week {
		start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7))
		step = 7
	}
	var out []ReportPeriod
	for d := start; d.Before(q.To); d = d.AddDate(0, 0, step) {
		if len(out) == MaxReportPeriods {
			return nil, backend.Errorf(backend.EInvalid, "A report covers at most %d periods; choose a shorter range or weeks.", MaxReportPeriods)
		}
		p := ReportPeriod{Label: d.Format("2006-01-02"), Lo: d, Hi: d.AddDate(0, 0, step)}
		if p.Lo.Before(q.From) {
			p.Lo = q.From
		}
		if p.Hi.After(q.To) {
			p.Hi = q.To
		}
		out = append(out, p)
	}
	return out, nil
}

// FinishFigures derives the SLA share: answered tasks within the SLA over
// answered and abandoned ones.
func FinishFigures(f *backend.Figures) {
	if n := f.Answered + f.Abandoned; n > 0 {
		f.SLAPercent = 100 * float64(f.WithinSLA) / float64(n)
	}
}

// ScanFigures appends the destinations of a report's figure columns, in
// order: volume, answered, abandoned, handled, the average wait, handle
// and first-response seconds, and the tasks within the SLA.
func ScanFigures(dest []any, f *backend.Figures) []any {
	return append(dest, &f.Volume, &f.Answered, &f.Abandoned, &f.Handled, &f.AvgWaitSeconds, &f.AvgHandleSeconds,
		&f.AvgFirstResponseSeconds, &f.WithinSLA)
}

// WaitMillis is a task's time from creation to its (latest) accept, nil
// before any.
func WaitMillis(t *backend.Task) *int64 {
	if t.AssignedAt.IsZero() {
		return nil
	}
	ms := t.AssignedAt.Sub(t.CreatedAt).Milliseconds()
	return &ms
}

// HandleMillis is a completed task's time from its accept to its end, nil
// for any other.
func HandleMillis(t *backend.Task) *int64 {
	if t.State != backend.TaskCompleted || t.AssignedAt.IsZero() {
		return nil
	}
	ms := t.EndedAt.Sub(t.AssignedAt).Milliseconds()
	return &ms
}

// QueueSLAs returns each queue's SLA threshold in milliseconds.
func QueueSLAs(qs []*backend.Queue) (ids []string, ms []int64) {
	for _, q := range qs {
		ids, ms = append(ids, q.ID), append(ms, q.SLA().Milliseconds())
	}
	return ids, ms
}
