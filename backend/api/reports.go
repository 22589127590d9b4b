package api

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"switchboard/backend"
	"switchboard/backend/staffing"
)

// reportQuery reads a report's query parameters: from and to (days,
// YYYY-MM-DD, both included), period (day or week), by (channel, queue,
// agent or empty) and tz (an IANA time zone; the engine's by default).
func (s *Server) reportQuery(r *http.Request) (backend.ReportQuery, error) {
	q := r.URL.Query()
	loc := s.super.loc
	if tz := q.Get("tz"); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return backend.ReportQuery{}, backend.Errorf(backend.EInvalid, "Unknown time zone %q.", tz)
		}
		loc = l
	}
	day := func(name string) (time.Time, error) {
		t, err := time.ParseInLocation("2006-01-02", q.Get(name), loc)
		if err != nil {
			return t, backend.Errorf(backend.EInvalid, "Query parameter %s must be a day as YYYY-MM-DD, not %q.", name, q.Get(name))
		}
		return t, nil
	}
	from, err := day("from")
	if err != nil {
		return backend.ReportQuery{}, err
	}
	to, err := day("to")
	if err != nil {
		return backend.ReportQuery{}, err
	}
	rq := backend.ReportQuery{From: from, To: to.AddDate(0, 0, 1), By: q.Get("by"), Location: loc}
	switch q.Get("period") {
	case "", "day":
	case "week":
		rq.Week = true
	default:
		return rq, backend.Errorf(backend.EInvalid, "Query parameter period must be day or week, not %q.", q.Get("period"))
	}
	return rq, nil
}

// ReportResponse is the answer of GET /api/reports.
type ReportResponse struct {
	Rows []backend.ReportRow `json:"rows"`
	// Names maps queue and worker IDs in the rows to their names.
	Names map[string]string `json:"names"`
}

func (s *Server) report(r *http.Request) (*ReportResponse, error) {
	rq, err := s.reportQuery(r)
	if err != nil {
		return nil, err
	}
	rows, err := s.super.reports.Report(r.Context(), rq)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	qs, err := s.router.Queues(r.Context())
	if err != nil {
		return nil, err
	}
	for _, q := range qs {
		names[q.ID] = q.Name
	}
	ws, err := s.router.Workers(r.Context())
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		names[w.ID] = w.Name
	}
	return &ReportResponse{Rows: rows, Names: names}, nil
}

func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	rep, err := s.report(r)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// reportHeader is the CSV export's first line.
var reportHeader = []string{"period", "group", "name", "volume", "answered", "abandoned", "handled", "avg_wait_s",
	"avg_handle_s", "avg_first_response_s", "within_sla", "sla_percent"}

func (s *Server) handleReportCSV(w http.ResponseWriter, r *http.Request) {
	rep, err := s.report(r)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="switchboard-report.csv"`)
	cw := csv.NewWriter(w)
	cw.Write(reportHeader)
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
	for _, row := range rep.Rows {
		f := row.Figures
		cw.Write([]string{row.Period, row.Group, rep.Names[row.Group], fmt.Sprint(f.Volume), fmt.Sprint(f.Answered),
			fmt.Sprint(f.Abandoned), fmt.Sprint(f.Handled), num(f.AvgWaitSeconds), num(f.AvgHandleSeconds),
			num(f.AvgFirstResponseSeconds), fmt.Sprint(f.WithinSLA), num(f.SLAPercent)})
	}
	cw.Flush()
}

// StaffingRow is one queue's Erlang C staffing: the agents needed to
// answer TargetPercent of arrivals within the queue's SLA at the arrival
// rate and handle time of the window, next to the agents logged in now.
type StaffingRow struct {
	QueueID        string  `json:"queueId"`
	Name           string  `json:"name"`
	Arrivals       int64   `json:"arrivals"`
	PerHour        float64 `json:"perHour"`
	AHTSeconds     float64 `json:"ahtSeconds"`
	TrafficErlangs float64 `json:"trafficErlangs"`
	SLASeconds     int     `json:"slaSeconds"`
	TargetPercent  float64 `json:"targetPercent"`
	// AgentsNeeded is -1 when no team up to staffing.MaxAgents is enough.
	AgentsNeeded int `json:"agentsNeeded"`
	// AgentsLoggedIn serve the queue and are not offline; with them the
	// model expects ServiceLevelPercent.
	AgentsLoggedIn      int     `json:"agentsLoggedIn"`
	ServiceLevelPercent float64 `json:"serviceLevelPercent"`
}

// StaffingResponse is the answer of GET /api/supervisor/staffing.
type StaffingResponse struct {
	WindowMinutes int           `json:"windowMinutes"`
	Queues        []StaffingRow `json:"queues"`
}

// handleStaffing sizes each queue with Erlang C over the last window
// minutes (?window=, 60 by default) for a service level goal (?target=
// percent, 80 by default). A window with no completed task uses the
// queue's average handle time so far.
func (s *Server) handleStaffing(w http.ResponseWriter, r *http.Request) {
	window, err := queryInt(r, "window", 60)
	if err == nil && (window < 1 || window > 7*24*60) {
		err = backend.Errorf(backend.EInvalid, "Query parameter window must be between 1 and 10080 minutes.")
	}
	target, err2 := queryInt(r, "target", 80)
	if err2 == nil && (target < 1 || target > 99) {
		err2 = backend.Errorf(backend.EInvalid, "Query parameter target must be a percentage between 1 and 99.")
	}
	if err := errors.Join(err, err2); err != nil {
		Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "%s", backend.ErrorMessage(err)))
		return
	}
	v, rl, err := s.liveState(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	span := time.Duration(window) * time.Minute
	figs, err := s.super.reports.QueueFigures(r.Context(), v.At.Add(-span), v.At)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	out := StaffingResponse{WindowMinutes: int(window), Queues: []StaffingRow{}}
	for _, l := range v.Queues {
		f := figs[l.QueueID]
		aht := f.AvgHandleSeconds
		if aht == 0 && rl.Stats[l.QueueID] != nil {
			aht = rl.Stats[l.QueueID].AvgHandleSeconds
		}
		out.Queues = append(out.Queues, staffingRow(l, f.Volume, span, aht, float64(target)))
	}
	writeJSON(w, http.StatusOK, out)
}

func staffingRow(l backend.QueueLive, arrivals int64, span time.Duration, ahtSeconds, target float64) StaffingRow {
	row := StaffingRow{QueueID: l.QueueID, Name: l.Name, Arrivals: arrivals, PerHour: float64(arrivals) / span.Hours(),
		AHTSeconds: ahtSeconds, SLASeconds: l.SLASeconds, TargetPercent: target,
		AgentsLoggedIn: l.Agents.Available + l.Agents.Busy + l.Agents.Away}
	aht := time.Duration(ahtSeconds * float64(time.Second))
	sla := time.Duration(l.SLASeconds) * time.Second
	row.TrafficErlangs = staffing.Traffic(float64(arrivals)/span.Seconds(), aht)
	n, err := staffing.AgentsNeeded(row.TrafficErlangs, aht, sla, target/100)
	if err != nil {
		n = -1
	}
	row.AgentsNeeded = n
	row.ServiceLevelPercent = 100 * staffing.ServiceLevel(row.AgentsLoggedIn, row.TrafficErlangs, aht, sla)
	return row
}
