package app

import (
	"encoding/json"
	"fmt"
	"net/url"

	"switchboard/backend"
	"switchboard/backend/api"
)

// The supervisor's screen (supervisors and admins): the live view, setting
// an agent's activity, staffing and reports. The engine refuses agents.

// liveFrame hands the supervisors' live view, pushed on the live feed, to
// the UI as the "supervisor" event, and announces queues that have just
// crossed a threshold.
func (a *App) liveFrame(s *session, typ string, frame []byte) {
	if typ != backend.EventSupervisorLive {
		return
	}
	var f api.LiveFrame
	if err := json.Unmarshal(frame, &f); err != nil || f.Live == nil {
		a.log.Warn("unreadable live view frame", "err", err)
		return
	}
	a.emit("supervisor", f.Live)
	a.announceAlerts(s, f.Live)
}

// SupervisorHistory returns each queue's chart of the past hour (a
// sample a minute, from the engine's stored tasks).
func (a *App) SupervisorHistory() (backend.QueueHistory, error) {
	var h backend.QueueHistory
	return h, a.api("GET", "/api/supervisor/history", nil, &h)
}

// SupervisorLive returns the live view of queues and agents now; updates
// follow as "supervisor" events.
func (a *App) SupervisorLive() (backend.LiveView, error) {
	var v backend.LiveView
	if err := a.api("GET", "/api/supervisor/live", nil, &v); err != nil {
		return v, err
	}
	a.log.Info("supervisor view shown", "queues", len(v.Queues), "agents", len(v.Agents))
	return v, nil
}

// SetAgentActivity sets another agent's activity (log out someone who
// left).
func (a *App) SetAgentActivity(workerID, activity string) (backend.Worker, error) {
	var w backend.Worker
	return w, a.api("POST", "/api/workers/"+url.PathEscape(workerID)+"/activity", api.ActivityRequest{Activity: activity}, &w)
}

// MonitorCall joins the supervisor's softphone to another agent's live call
// to listen, whisper or barge in (backend.Monitor*), or changes how they
// are on it; the call then shows on their phone with its mode.
func (a *App) MonitorCall(callID, mode string) error {
	return a.api("POST", "/api/calls/"+url.PathEscape(callID)+"/monitor", api.MonitorRequest{Mode: mode}, nil)
}

// LeaveCall takes the supervisor off a call they joined.
func (a *App) LeaveCall(callID string) error {
	return a.api("DELETE", "/api/calls/"+url.PathEscape(callID)+"/monitor", nil, nil)
}

// Staffing returns each queue's Erlang C staffing over the last window
// minutes for a service level goal in percent.
func (a *App) Staffing(window, target int) (api.StaffingResponse, error) {
	var out api.StaffingResponse
	return out, a.api("GET", fmt.Sprintf("/api/supervisor/staffing?window=%d&target=%d", window, target), nil, &out)
}

// ReportQuery is what the reports screen asks for: days (YYYY-MM-DD, both
// included), day or week, and a grouping (channel, queue, agent or none).
type ReportQuery struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Period string `json:"period"`
	By     string `json:"by"`
	TZ     string `json:"tz"`
}

func (q ReportQuery) query() string {
	v := url.Values{"from": {q.From}, "to": {q.To}, "period": {q.Period}, "by": {q.By}}
	if q.TZ != "" {
		v.Set("tz", q.TZ)
	}
	return v.Encode()
}

// Report returns a report's rows and the names of the queues and agents
// they name.
func (a *App) Report(q ReportQuery) (api.ReportResponse, error) {
	var out api.ReportResponse
	return out, a.api("GET", "/api/reports?"+q.query(), nil, &out)
}

// ReportCSV returns the same report as CSV text, for the UI to save.
func (a *App) ReportCSV(q ReportQuery) (string, error) {
	var raw []byte
	err := a.api("GET", "/api/reports/csv?"+q.query(), nil, &raw)
	return string(raw), err
}

// Activities lists the workspace's activities, for setting an agent's.
func (a *App) Activities() ([]backend.Activity, error) {
	var out []backend.Activity
	return out, a.api("GET", "/api/activities", nil, &out)
}

// LogFrontendError writes an error the UI did not handle (a script that
// failed to load, an exception) to the app's log, for diagnostics.
func (a *App) LogFrontendError(message string) {
	if len(message) > 2000 {
		message = message[:2000]
	}
	a.log.Warn("frontend error", "message", message)
}
