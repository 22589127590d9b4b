package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"switchboard/backend"
)

// LiveRouter is what the supervisor's live view needs from routing.
type LiveRouter interface {
	Live(ctx context.Context) (*backend.RoutingLive, error)
}

// liveEvents are the change-feed events that move the live view.
var liveEvents = map[string]bool{
	backend.EventTaskUpserted: true, backend.EventReservationUpserted: true, backend.EventWorkerUpserted: true,
	backend.EventWorkerDeleted: true, backend.EventQueueUpserted: true, backend.EventQueueDeleted: true,
	backend.EventQueueStats: true, backend.EventWorkerStats: true, backend.EventCallUpserted: true,
	backend.EventActivityUpserted: true,
}

// signalChanged tells the live view to follow when events moved it and a
// supervisor or an admin is connected to see it (one who connects later
// gets a fresh view then).
func (st *hubState) signalChanged(events []backend.Event) {
	if len(st.privileged) == 0 {
		return
	}
	for i := range events {
		if liveEvents[events[i].Type] {
			st.nudgeLive()
			return
		}
	}
}

// nudgeLive asks for a fresh live view (never blocking: a pending ask
// covers this one).
func (st *hubState) nudgeLive() {
	select {
	case st.h.changed <- struct{}{}:
	default:
	}
}

// SetSupervisor enables the supervisors' live view, actions, reports and
// staffing, and starts pushing the live view to supervisors' sockets
// (after Start). Location is the time zone "today" starts in (time.Local
// when nil).
func (s *Server) SetSupervisor(r LiveRouter, reports backend.ReportService, loc *time.Location) {
	if loc == nil {
		loc = time.Local
	}
	s.super = &supervisor{live: r, reports: reports, loc: loc}
	s.route("GET /api/supervisor/live", Supervisor, s.handleLive)
	s.route("GET /api/supervisor/history", Supervisor, s.handleHistory)
	s.route("POST /api/workers/{id}/activity", Supervisor, s.handleWorkerActivity)
	s.route("GET /api/supervisor/staffing", Supervisor, s.handleStaffing)
	s.route("GET /api/reports", Supervisor, s.handleReport)
	s.route("GET /api/reports/csv", Supervisor, s.handleReportCSV)
	if s.started {
		go s.pushLive()
	}
}

// supervisor is what the supervisor's routes read.
type supervisor struct {
	live    LiveRouter
	reports backend.ReportService
	loc     *time.Location
}

// midnight returns the start of t's day in the supervisor's time zone.
func (sv *supervisor) midnight(t time.Time) time.Time {
	t = t.In(sv.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, sv.loc)
}

// liveView assembles the live view: routing's state now, today's figures
// from the store and the calls in progress.
func (s *Server) liveView(ctx context.Context) (*backend.LiveView, error) {
	v, _, err := s.liveState(ctx)
	return v, err
}

// liveState returns the live view and routing's state it was made from.
func (s *Server) liveState(ctx context.Context) (*backend.LiveView, *backend.RoutingLive, error) {
	sv := s.super
	rl, err := sv.live.Live(ctx)
	if err != nil {
		return nil, nil, err
	}
	from := sv.midnight(rl.At)
	to := from.AddDate(0, 0, 1)
	queueDay, err := sv.reports.QueueFigures(ctx, from, to)
	if err != nil {
		return nil, nil, err
	}
	agentDay, err := sv.reports.AgentFigures(ctx, from, to)
	if err != nil {
		return nil, nil, err
	}
	calls, err := s.Store.FindLiveCalls(ctx)
	if err != nil {
		return nil, nil, err
	}
	v := &backend.LiveView{At: rl.At, Queues: []backend.QueueLive{}, Agents: []backend.AgentLive{}}
	states := map[string]string{}
	for _, w := range rl.Workers {
		a := agentLive(w, rl.Load[w.ID], agentDay[w.ID], calls)
		states[w.ID] = a.State
		v.Agents = append(v.Agents, a)
	}
	for _, q := range rl.Queues {
		v.Queues = append(v.Queues, queueLive(q, rl.Stats[q.ID], rl.Members[q.ID], states, queueDay[q.ID]))
	}
	return v, rl, nil
}

func agentLive(w *backend.Worker, load map[string]int, day backend.AgentDay, calls []*backend.Call) backend.AgentLive {
	a := backend.AgentLive{WorkerID: w.ID, UserID: w.UserID, Name: w.Name, Activity: w.Activity, ActivitySince: w.ActivityChangedAt,
		Load: map[string]int{}, Capacity: map[string]int{}, Calls: []backend.LiveCall{}, Today: day}
	held := 0
	for ch, n := range load {
		if n > 0 {
			a.Load[ch] = n
			held += n
		}
	}
	for _, ch := range []string{backend.ChannelVoice, backend.ChannelChat, backend.ChannelEmail} {
		a.Capacity[ch] = w.CapacityFor(ch)
	}
	for ch := range w.Capacity {
		a.Capacity[ch] = w.CapacityFor(ch)
	}
	for ch := range a.Load {
		a.Capacity[ch] = w.CapacityFor(ch)
	}
	for _, c := range calls {
		if w.UserID != "" && c.UserID == w.UserID {
			a.Calls = append(a.Calls, backend.LiveCall{CallID: c.ID, ConversationID: c.ConversationID, StartedAt: c.StartedAt})
		}
	}
	switch {
	case held > 0:
		a.State = backend.AgentBusy
	case w.Available:
		a.State = backend.AgentAvailable
	case w.Activity == backend.ActivityOffline:
		a.State = backend.AgentOffline
	default:
		a.State = backend.AgentAway
	}
	return a
}

func queueLive(q *backend.Queue, st *backend.QueueStats, members []string, states map[string]string, day backend.Figures) backend.QueueLive {
	l := backend.QueueLive{QueueID: q.ID, Name: q.Name, Tasks: map[string]int{}, Today: day, SLASeconds: int(q.SLA() / time.Second)}
	if st != nil {
		l.Tasks, l.LongestWaitSeconds = st.Tasks, st.LongestWaitSeconds
		l.Waiting = st.Tasks[backend.TaskPending]
	}
	for _, id := range members {
		switch states[id] {
		case backend.AgentAvailable:
			l.Agents.Available++
		case backend.AgentBusy:
			l.Agents.Busy++
		case backend.AgentAway:
			l.Agents.Away++
		default:
			l.Agents.Offline++
		}
	}
	l.Alert = q.Alerts(l.Waiting, time.Duration(l.LongestWaitSeconds*float64(time.Second)))
	return l
}

// nextAlert returns how long until a queue with waiting tasks passes its
// longest-wait threshold, if one will (so the view turns red on time
// without anything else happening).
func nextAlert(v *backend.LiveView, rl *backend.RoutingLive) (time.Duration, bool) {
	var next time.Duration
	found := false
	for i, l := range v.Queues {
		q := rl.Queues[i]
		if l.Waiting == 0 {
			continue
		}
		limit := q.SLA()
		if q.AlertWaitSeconds > 0 {
			limit = time.Duration(q.AlertWaitSeconds) * time.Second
		}
		d := limit - time.Duration(l.LongestWaitSeconds*float64(time.Second))
		if d > 0 && (!found || d < next) {
			next, found = d, true
		}
	}
	return next, found
}

// LiveFrame is the WebSocket frame that carries the live view.
type LiveFrame struct {
	Type string            `json:"type"` // backend.EventSupervisorLive
	Live *backend.LiveView `json:"live"`
}

// pushLive sends supervisors a fresh live view whenever routing or calls
// changed, and when a waiting task passes its queue's threshold, until the
// hub stops. Signals that arrive while a view is computed fold into one.
func (s *Server) pushLive() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		select {
		case <-s.hub.changed:
		case <-s.hub.done:
			return
		case <-s.hub.stopped:
			return
		}
		v, rl, err := s.liveState(ctx)
		if err != nil {
			s.Logger.Warn("supervisor live view", "err", err)
			continue
		}
		frame, _ := json.Marshal(LiveFrame{Type: backend.EventSupervisorLive, Live: v})
		s.hub.Publish(backend.EventSupervisorLive, frame)
		if stop != nil {
			stop()
			stop = nil
		}
		if d, ok := nextAlert(v, rl); ok {
			stop = s.Clock.AfterFunc(d, func() {
				select {
				case s.hub.changed <- struct{}{}:
				default:
				}
			})
		}
	}
}

func (s *Server) handleLive(w http.ResponseWriter, r *http.Request) {
	v, err := s.liveView(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// The supervisor's chart covers HistorySpan, one sample every HistoryStep.
const (
	HistorySpan = time.Hour
	HistoryStep = time.Minute
)

// handleHistory answers the chart of the past hour per queue, computed
// from the stored tasks; the live view's pushed frames extend it.
func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) {
	to := s.Clock.Now()
	from := to.Add(-HistorySpan)
	var at []time.Time
	for t := from; !t.After(to); t = t.Add(HistoryStep) {
		at = append(at, t)
	}
	samples, err := s.super.reports.QueueHistory(r.Context(), at, s.super.loc)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, backend.QueueHistory{From: from, To: to, Step: int(HistoryStep / time.Second), Queues: samples})
}

// handleWorkerActivity sets another agent's activity (a supervisor logs
// out someone who left, or puts them back to work).
func (s *Server) handleWorkerActivity(w http.ResponseWriter, r *http.Request) {
	var req ActivityRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	wk, err := s.router.SetWorkerActivity(r.Context(), r.PathValue("id"), req.Activity)
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.audit(r, "worker.activity", "worker", wk.ID, req, "Set %s to %s", wk.Name, wk.Activity)
	writeJSON(w, http.StatusOK, wk)
}
