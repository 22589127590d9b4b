package flow_test

import (
	"strings"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/flow"
)

func hoursFlow(props any) *backend.Flow {
	return mkflow("hours",
		w("hours", flow.TypeBusinessHours, to("open", "welcome", "closed", "away"), props),
		w("welcome", flow.TypeSendMessage, to("sent", "end", "failed", "end"), map[string]any{"body": "An agent will be with you."}),
		w("away", flow.TypeSendMessage, to("sent", "end", "failed", "end"), map[string]any{"body": "We are closed; we answer from 9:00."}),
		w("end", flow.TypeEnd, nil, nil))
}

// TestBusinessHours answers by the time of day and week in the widget's
// time zone: the fake clock starts on Monday 2 March 2026 at 09:00 UTC,
// which is 04:00 in New York.
func TestBusinessHours(t *testing.T) {
	h := newHarness(t, hoursFlow(map[string]any{"timeZone": "America/New_York",
		"hours":       []map[string]any{{"days": []string{"mon", "tue", "wed", "thu", "fri"}, "open": "09:00", "close": "17:30"}},
		"closedDates": []string{"2026-03-03"}}))
	steps := []struct {
		advance time.Duration
		want    string
	}{
		{0, "We are closed; we answer from 9:00."},                   // Mon 04:00
		{5 * time.Hour, "An agent will be with you."},                // Mon 09:00: opens
		{8*time.Hour + 29*time.Minute, "An agent will be with you."}, // Mon 17:29
		{time.Minute, "We are closed; we answer from 9:00."},         // Mon 17:30: closed
		{16 * time.Hour, "We are closed; we answer from 9:00."},      // Tue 09:30, a closed date
		{24 * time.Hour, "An agent will be with you."},               // Wed 09:30
		{3 * 24 * time.Hour, "We are closed; we answer from 9:00."},  // Sat 09:30
	}
	for i, st := range steps {
		h.clock.Advance(st.advance)
		h.say("hello")
		texts := h.texts()
		if got := texts[len(texts)-1]; got != st.want || len(texts) != i+1 {
			t.Fatalf("step %d at %s: answered %q (%d answers), want %q", i, h.clock.Now().In(mustZone(t, "America/New_York")).Format("Mon 15:04"), got, len(texts), st.want)
		}
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestBusinessHoursValidation rejects what the widget cannot read, with a
// sentence naming it.
func TestBusinessHoursValidation(t *testing.T) {
	ok := []map[string]any{{"days": []string{"mon"}, "open": "09:00", "close": "17:00"}}
	for _, tc := range []struct {
		name  string
		props map[string]any
		want  string
	}{
		{"no time zone", map[string]any{"hours": ok}, "need a time zone"},
		{"unknown zone", map[string]any{"timeZone": "Mars/Olympus", "hours": ok}, "is not a time zone"},
		{"no hours", map[string]any{"timeZone": "UTC"}, "at least one opening period"},
		{"bad day", map[string]any{"timeZone": "UTC", "hours": []map[string]any{{"days": []string{"funday"}, "open": "09:00", "close": "10:00"}}}, `"funday" is not a day`},
		{"bad time", map[string]any{"timeZone": "UTC", "hours": []map[string]any{{"days": []string{"mon"}, "open": "9am", "close": "10:00"}}}, "is not a time of day"},
		{"overnight", map[string]any{"timeZone": "UTC", "hours": []map[string]any{{"days": []string{"mon"}, "open": "22:00", "close": "02:00"}}}, "split hours past midnight"},
		{"bad date", map[string]any{"timeZone": "UTC", "hours": ok, "closedDates": []string{"25/12/2026"}}, "YYYY-MM-DD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := flow.Compile(hoursFlow(tc.props), flow.DefaultRegistry())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
