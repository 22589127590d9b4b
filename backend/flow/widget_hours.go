package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // time zones work on machines without a zoneinfo database

	"switchboard/backend"
)

// TypeBusinessHours splits on the time of day and week in a time zone.
const TypeBusinessHours = "business-hours"

// Events of the business-hours widget.
const (
	EventOpen   = "open"
	EventClosed = "closed"
)

// HoursRange is one opening period: on each of Days, from Open until Close
// (24-hour "HH:MM" in the widget's time zone; Close may be "24:00").
type HoursRange struct {
	Days  []string `json:"days"`
	Open  string   `json:"open"`
	Close string   `json:"close"`
}

// HoursProperties configure a business-hours widget: a time zone (IANA,
// such as "Europe/Madrid"), the weekly opening hours, and dates (YYYY-MM-DD)
// the business is closed all day.
type HoursProperties struct {
	TimeZone    string       `json:"timeZone"`
	Hours       []HoursRange `json:"hours"`
	ClosedDates []string     `json:"closedDates,omitempty"`
}

// weekdays are the day names the widget takes, Sunday first as time.Weekday.
var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

type hoursRange struct {
	days        [7]bool
	open, close int // minutes since midnight
}

type businessHours struct {
	loc    *time.Location
	ranges []hoursRange
	closed map[string]bool
}

func compileBusinessHours(w *backend.FlowWidget) (Widget, error) {
	var p HoursProperties
	if err := DecodeProperties(w, &p); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.TimeZone) == "" {
		return nil, errors.New("business hours need a time zone, such as America/New_York")
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("%q is not a time zone (use a name such as Europe/Madrid)", p.TimeZone)
	}
	if len(p.Hours) == 0 {
		return nil, errors.New("business hours need at least one opening period")
	}
	b := &businessHours{loc: loc, closed: map[string]bool{}}
	for i, h := range p.Hours {
		r, err := compileRange(h)
		if err != nil {
			return nil, fmt.Errorf("opening period %d: %v", i+1, err)
		}
		b.ranges = append(b.ranges, r)
	}
	for _, d := range p.ClosedDates {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, fmt.Errorf("closed date %q is not written YYYY-MM-DD", d)
		}
		b.closed[d] = true
	}
	return b, nil
}

func compileRange(h HoursRange) (hoursRange, error) {
	var r hoursRange
	if len(h.Days) == 0 {
		return r, errors.New("name at least one day (mon … sun)")
	}
	for _, d := range h.Days {
		i := slices.Index(weekdays, strings.ToLower(strings.TrimSpace(d)))
		if i < 0 {
			return r, fmt.Errorf("%q is not a day; use mon, tue, wed, thu, fri, sat or sun", d)
		}
		r.days[i] = true
	}
	var err error
	if r.open, err = clockMinutes(h.Open); err != nil {
		return r, err
	}
	if r.close, err = clockMinutes(h.Close); err != nil {
		return r, err
	}
	if r.close <= r.open {
		return r, fmt.Errorf("closing time %s is not after opening time %s; split hours past midnight into two periods", h.Close, h.Open)
	}
	return r, nil
}

// clockMinutes reads "HH:MM" (00:00 to 24:00) as minutes since midnight.
func clockMinutes(s string) (int, error) {
	var h, m int
	if n, err := fmt.Sscanf(strings.TrimSpace(s), "%d:%d", &h, &m); err != nil || n != 2 || h < 0 || m < 0 || m > 59 || h*60+m > 24*60 {
		return 0, fmt.Errorf("%q is not a time of day like 09:00 or 17:30", s)
	}
	return h*60 + m, nil
}

func (*businessHours) Events() []string { return []string{EventOpen, EventClosed} }

func (b *businessHours) Run(_ context.Context, s *Step) (Outcome, error) {
	local := s.Now().In(b.loc)
	s.SetOutput("localTime", local.Format("Mon 15:04 MST"))
	ev := EventClosed
	if b.isOpen(local) {
		ev = EventOpen
	}
	s.Note("%s in %s: %s", local.Format("Mon 2006-01-02 15:04"), b.loc, ev)
	return Outcome{Event: ev}, nil
}

func (b *businessHours) isOpen(local time.Time) bool {
	if b.closed[local.Format(time.DateOnly)] {
		return false
	}
	min := local.Hour()*60 + local.Minute()
	for _, r := range b.ranges {
		if r.days[local.Weekday()] && min >= r.open && min < r.close {
			return true
		}
	}
	return false
}
