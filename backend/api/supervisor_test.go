package api_test

import (
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend"
	"switchboard/backend/api"
	"switchboard/backend/routing"
	"switchboard/backend/sqlite"
)

var superT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// superEngine is an engine with routing and the supervisor's routes on a
// fake clock: an agent (Ana, available), a worker on a break and one
// offline; queue Support that everyone serves and queue Billing that
// nobody does (two waiting tasks turn it red).
type superEngine struct {
	*testEngine
	clock                 *backend.FakeClock
	r                     *routing.Engine
	agent, admin, sup     string
	agentUser             *backend.User
	support, billing      string
	anaWorker, away, gone string
}

func mustStartSuper(t *testing.T) *superEngine {
	t.Helper()
	return mustStartSuperWith(t, func(r api.LiveRouter) api.LiveRouter { return r })
}

// mustStartSuperWith is mustStartSuper with the live view's router
// wrapped by wrap.
func mustStartSuperWith(t *testing.T, wrap func(api.LiveRouter) api.LiveRouter) *superEngine {
	t.Helper()
	ctx := context.Background()
	se := &superEngine{clock: backend.NewFakeClock(superT0)}
	se.testEngine = MustStartEngineWith(t, func(db *sqlite.DB, s *api.Server) {
		db.Now, s.Clock = se.clock.Now, se.clock
	})
	se.r = routing.New(se.DB, routing.Options{Clock: se.clock, ReservationTimeout: 10 * time.Minute})
	if err := se.r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { se.r.Close() })
	se.API.SetRouter(se.r)
	se.API.SetSupervisor(wrap(se.r), se.DB, time.UTC)
	sup := &backend.User{Name: "Sue", Email: "sue@example.com", Role: backend.RoleSupervisor}
	if err := se.DB.CreateUser(ctx, sup, "password1"); err != nil {
		t.Fatal(err)
	}
	users, _ := se.DB.FindUsers(ctx)
	for _, u := range users {
		if u.Email == "agent@example.com" {
			se.agentUser = u
		}
	}
	for _, w := range []*backend.Worker{
		{ID: "wk_ana", UserID: se.agentUser.ID, Name: "Ana", Activity: backend.ActivityAvailable},
		{ID: "wk_away", Name: "Bo", Activity: backend.ActivityBreak},
		{ID: "wk_gone", Name: "Cy", Activity: backend.ActivityOffline},
	} {
		if _, err := se.r.UpsertWorker(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	se.anaWorker, se.away, se.gone = "wk_ana", "wk_away", "wk_gone"
	for _, q := range []*backend.Queue{
		{ID: "q_support", Name: "Support", SLASeconds: 20},
		{ID: "q_billing", Name: "Billing", TargetWorkers: `"billing" in worker.skills`, AlertWaiting: 2},
	} {
		if _, err := se.r.UpsertQueue(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	se.support, se.billing = "q_support", "q_billing"
	se.agent, se.admin, se.sup = se.SignIn(t, "agent@example.com"), se.SignIn(t, "admin@example.com"), se.SignIn(t, "sue@example.com")
	return se
}

func (se *superEngine) task(t *testing.T, channel, queue string) *backend.Task {
	t.Helper()
	task, err := se.r.CreateTask(context.Background(), backend.TaskInput{Channel: channel, QueueID: queue})
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func (se *superEngine) live(t *testing.T) *backend.LiveView {
	t.Helper()
	var v backend.LiveView
	if st := se.Do(t, se.sup, "GET", "/api/supervisor/live", "", &v); st != 200 {
		t.Fatalf("live view: %d", st)
	}
	return &v
}

func queueOf(v *backend.LiveView, id string) backend.QueueLive {
	for _, q := range v.Queues {
		if q.QueueID == id {
			return q
		}
	}
	return backend.QueueLive{}
}

func agentOf(v *backend.LiveView, id string) backend.AgentLive {
	for _, a := range v.Agents {
		if a.WorkerID == id {
			return a
		}
	}
	return backend.AgentLive{}
}

func TestSupervisor_LiveViewFigures(t *testing.T) {
	ctx := context.Background()
	se := mustStartSuper(t)
	chat := se.task(t, backend.ChannelChat, se.support)
	offers, _ := se.r.Reservations(ctx, se.anaWorker)
	if len(offers) != 1 {
		t.Fatalf("offers to Ana: %+v", offers)
	}
	se.clock.Advance(4 * time.Second)
	if _, err := se.r.AcceptReservation(ctx, offers[0].ID); err != nil {
		t.Fatal(err)
	}
	se.task(t, backend.ChannelVoice, se.billing)
	se.clock.Advance(30 * time.Second)
	se.task(t, backend.ChannelVoice, se.billing)

	v := se.live(t)
	support, billing := queueOf(v, se.support), queueOf(v, se.billing)
	if support.Tasks[backend.TaskAssigned] != 1 || support.Waiting != 0 || len(support.Alert) != 0 {
		t.Errorf("support = %+v", support)
	}
	if support.Agents != (backend.AgentCounts{Busy: 1, Away: 1, Offline: 1}) {
		t.Errorf("support's agents = %+v", support.Agents)
	}
	if support.Today.Volume != 1 || support.Today.Answered != 1 || support.Today.AvgWaitSeconds != 4 || support.Today.SLAPercent != 100 {
		t.Errorf("support today = %+v", support.Today)
	}
	if billing.Waiting != 2 || billing.LongestWaitSeconds != 30 || !slices.Equal(billing.Alert, []string{"longest wait", "waiting"}) {
		t.Errorf("billing = %+v", billing)
	}
	if billing.Agents != (backend.AgentCounts{}) {
		t.Errorf("billing has agents: %+v", billing.Agents)
	}
	ana := agentOf(v, se.anaWorker)
	if ana.State != backend.AgentBusy || ana.Load[backend.ChannelChat] != 1 || ana.Capacity[backend.ChannelChat] != 3 ||
		ana.Capacity[backend.ChannelVoice] != 1 || ana.Name != "Ana" {
		t.Errorf("ana = %+v", ana)
	}
	if a := agentOf(v, se.away); a.State != backend.AgentAway || a.Activity != backend.ActivityBreak {
		t.Errorf("away = %+v", a)
	}
	if a := agentOf(v, se.gone); a.State != backend.AgentOffline {
		t.Errorf("gone = %+v", a)
	}

	se.clock.Advance(60 * time.Second)
	if _, err := se.r.CompleteTask(ctx, chat.ID, "Resolved"); err != nil {
		t.Fatal(err)
	}
	ana = agentOf(se.live(t), se.anaWorker)
	if ana.State != backend.AgentAvailable || ana.Today.Handled != 1 || ana.Today.AvgHandleSeconds != 90 || len(ana.Load) != 0 {
		t.Errorf("ana after the chat = %+v", ana)
	}
}

func TestSupervisor_Actions(t *testing.T) {
	ctx := context.Background()
	se := mustStartSuper(t)
	// Setting an agent's activity: Bo comes back from his break.
	var wk backend.Worker
	if st := se.Do(t, se.sup, "POST", "/api/workers/"+se.away+"/activity", `{"activity":"Available"}`, &wk); st != 200 || !wk.Available {
		t.Fatalf("set Bo available: %d %+v", st, wk)
	}
	if a := agentOf(se.live(t), se.away); a.State != backend.AgentAvailable || !a.ActivitySince.Equal(superT0) {
		t.Fatalf("Bo on the live view = %+v", a)
	}
	var e api.ErrorResponse
	if st := se.Do(t, se.agent, "POST", "/api/workers/"+se.away+"/activity", `{"activity":"Offline"}`, &e); st != 403 {
		t.Fatalf("an agent setting another's activity: %d", st)
	}
	if st := se.Do(t, se.sup, "POST", "/api/workers/"+se.away+"/activity", `{"activity":"Napping"}`, &e); st != 400 || e.Error.Message == "" {
		t.Fatalf("unknown activity: %d %+v", st, e)
	}
	if st := se.Do(t, se.sup, "POST", "/api/workers/wk_nobody/activity", `{"activity":"Offline"}`, &e); st != 404 {
		t.Fatalf("unknown worker: %d %+v", st, e)
	}
	if st := se.Do(t, se.sup, "POST", "/api/workers/"+se.away+"/activity", `{"activity":`, &e); st != 400 {
		t.Fatalf("malformed body: %d", st)
	}

	// Reassigning: Ana holds a chat; the supervisor moves it to Bo.
	chat := se.task(t, backend.ChannelChat, se.support)
	offers, _ := se.r.Reservations(ctx, se.anaWorker)
	if len(offers) != 1 {
		t.Fatalf("offers to Ana: %+v", offers)
	}
	if _, err := se.r.AcceptReservation(ctx, offers[0].ID); err != nil {
		t.Fatal(err)
	}
	var moved backend.Task
	if st := se.Do(t, se.sup, "POST", "/api/tasks/"+chat.ID+"/transfer", `{"workerId":"`+se.away+`"}`, &moved); st != 200 || moved.WorkerID != se.away {
		t.Fatalf("transfer to Bo: %d %+v", st, moved)
	}

	// A private note in a conversation that is not the supervisor's.
	in, _, err := se.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: "9", ExternalID: "n1", Text: "help"})
	if err != nil {
		t.Fatal(err)
	}
	var note backend.Message
	if st := se.Do(t, se.sup, "POST", "/api/conversations/"+in.ConversationID+"/messages", `{"text":"Ana, offer a refund","private":true,"clientId":"n-1"}`, &note); st != 201 || !note.Private {
		t.Fatalf("private note: %d %+v", st, note)
	}
}

// liveFrame is a WebSocket frame of either kind.
type liveFrame struct {
	Type   string            `json:"type"`
	Events []backend.Event   `json:"events"`
	Live   *backend.LiveView `json:"live"`
}

// readUntil reads frames until ok accepts one, failing on a frame bad
// rejects first.
func readUntil(t *testing.T, conn *websocket.Conn, ok, bad func(*liveFrame) bool) *liveFrame {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		var f liveFrame
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("read: %v", err)
		}
		if bad != nil && bad(&f) {
			t.Fatalf("unexpected frame %s: %+v", f.Type, f)
		}
		if ok(&f) {
			return &f
		}
	}
}

// TestSupervisor_LivePushedToSupervisorsOnly: a task's creation reaches
// the supervisor's socket as a live view, never the agent's; a waiting
// task that passes its queue's threshold turns it red with no other event.
func TestSupervisor_LivePushedToSupervisorsOnly(t *testing.T) {
	ctx := context.Background()
	se := mustStartSuper(t)
	last, _ := se.DB.LastSeq(ctx)
	supConn, agentConn := dialFeed(t, se.testEngine, se.sup, last), dialFeed(t, se.testEngine, se.agent, last)
	adminConn := dialFeed(t, se.testEngine, se.admin, last)

	se.task(t, backend.ChannelChat, se.support)
	offered := func(f *liveFrame) bool {
		return f.Type == backend.EventSupervisorLive && queueOf(f.Live, se.support).Tasks[backend.TaskReserved] == 1
	}
	readUntil(t, supConn, offered, nil)
	readUntil(t, adminConn, offered, nil)
	// Whatever the hub sends the agent after this was queued after the
	// live frame: a live frame for the agent would come first.
	if st := se.Do(t, se.agent, "POST", "/api/me/activity", `{"activity":"Break"}`, nil); st != 200 {
		t.Fatalf("agent's break: %d", st)
	}
	readUntil(t, agentConn, func(f *liveFrame) bool {
		return slices.ContainsFunc(f.Events, func(e backend.Event) bool {
			return e.Type == backend.EventWorkerUpserted && strings.Contains(string(e.Data), `"activity":"Break"`)
		})
	}, func(f *liveFrame) bool { return f.Type != "events" })

	se.task(t, backend.ChannelVoice, se.billing)
	readUntil(t, supConn, func(f *liveFrame) bool {
		if f.Type != backend.EventSupervisorLive {
			return false
		}
		b := queueOf(f.Live, se.billing)
		return b.Waiting == 1 && len(b.Alert) == 0
	}, nil)
	se.clock.Advance(backend.DefaultSLA)
	f := readUntil(t, supConn, func(f *liveFrame) bool {
		return f.Type == backend.EventSupervisorLive && len(queueOf(f.Live, se.billing).Alert) > 0
	}, nil)
	if b := queueOf(f.Live, se.billing); !slices.Equal(b.Alert, []string{"longest wait"}) || b.LongestWaitSeconds != 20 {
		t.Fatalf("billing after 20 s = %+v", b)
	}
}

func TestSupervisor_ReportsAndStaffing(t *testing.T) {
	ctx := context.Background()
	se := mustStartSuper(t)
	for range 6 {
		task := se.task(t, backend.ChannelChat, se.support)
		offers, _ := se.r.Reservations(ctx, se.anaWorker)
		se.clock.Advance(10 * time.Second)
		if _, err := se.r.AcceptReservation(ctx, offers[0].ID); err != nil {
			t.Fatal(err)
		}
		se.clock.Advance(170 * time.Second)
		if _, err := se.r.CompleteTask(ctx, task.ID, "Resolved"); err != nil {
			t.Fatal(err)
		}
	}
	var rep api.ReportResponse
	if st := se.Do(t, se.sup, "GET", "/api/reports?from=2026-03-02&to=2026-03-02&by=agent", "", &rep); st != 200 || len(rep.Rows) != 1 {
		t.Fatalf("report: %d %+v", st, rep)
	}
	if r := rep.Rows[0]; r.Group != se.anaWorker || rep.Names[r.Group] != "Ana" || r.Volume != 6 || r.AvgWaitSeconds != 10 || r.AvgHandleSeconds != 170 {
		t.Fatalf("report row = %+v", r)
	}
	status, raw := se.DoRaw(t, se.sup, "GET", "/api/reports/csv?from=2026-03-02&to=2026-03-08&period=week&by=queue", "")
	if status != 200 {
		t.Fatalf("csv: %d %s", status, raw)
	}
	records, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
	if err != nil || len(records) != 2 || records[0][0] != "period" || records[1][0] != "2026-03-02" || records[1][2] != "Support" || records[1][3] != "6" {
		t.Fatalf("csv = %q, %v", records, err)
	}
	for _, bad := range []string{"/api/reports?from=2026-03-02", "/api/reports?from=2026-03-02&to=2026-03-01",
		"/api/reports?from=2026-03-02&to=2026-03-02&by=colour", "/api/reports?from=2026-03-02&to=2026-03-02&period=month",
		"/api/reports?from=2026-03-02&to=2026-03-02&tz=Mars/Olympus", "/api/supervisor/staffing?window=0", "/api/supervisor/staffing?target=100"} {
		var e api.ErrorResponse
		if st := se.Do(t, se.sup, "GET", bad, "", &e); st != 400 || e.Error.Message == "" {
			t.Errorf("GET %s: %d %+v", bad, st, e)
		}
	}

	// Six chats in the last 30 minutes (12 an hour) of 170 s each: 0.567
	// Erlangs. One agent would answer 46 % within 20 s, two 88 %: two are
	// needed for 80 %, and two are logged in (Ana, and Bo on a break).
	var staff api.StaffingResponse
	if st := se.Do(t, se.sup, "GET", "/api/supervisor/staffing?window=30&target=80", "", &staff); st != 200 {
		t.Fatalf("staffing: %d", st)
	}
	var row api.StaffingRow
	for _, q := range staff.Queues {
		if q.QueueID == se.support {
			row = q
		}
	}
	if row.Arrivals != 6 || row.PerHour != 12 || row.AHTSeconds != 170 || row.AgentsNeeded != 2 || row.AgentsLoggedIn != 2 {
		t.Fatalf("support's staffing = %+v", row)
	}
}

// TestSupervisor_HistoryOfThePastHour: the chart of the past hour comes
// from the stored tasks, a sample a minute, the last one agreeing with
// the live view.
func TestSupervisor_HistoryOfThePastHour(t *testing.T) {
	se := mustStartSuper(t)
	se.task(t, backend.ChannelVoice, se.billing)
	se.clock.Advance(30 * time.Minute)
	se.task(t, backend.ChannelVoice, se.billing)
	se.clock.Advance(30 * time.Minute)

	var h backend.QueueHistory
	if st := se.Do(t, se.sup, "GET", "/api/supervisor/history", "", &h); st != 200 {
		t.Fatalf("history: %d", st)
	}
	if !h.To.Equal(superT0.Add(time.Hour)) || !h.From.Equal(superT0) || h.Step != 60 || len(h.Queues) != 2 {
		t.Fatalf("history = %v to %v by %d s, %d queues", h.From, h.To, h.Step, len(h.Queues))
	}
	billing, support := h.Queues[se.billing], h.Queues[se.support]
	if len(billing) != 61 || len(support) != 61 {
		t.Fatalf("samples: billing %d, support %d", len(billing), len(support))
	}
	for i, s := range billing {
		want := 1
		if i >= 30 {
			want = 2
		}
		if !s.At.Equal(superT0.Add(time.Duration(i)*time.Minute)) || s.Unanswered != want || s.SLAPercent != nil || support[i].Unanswered != 0 {
			t.Fatalf("sample %d: billing %+v, support %+v", i, s, support[i])
		}
	}
	if b := queueOf(se.live(t), se.billing); b.Waiting != billing[60].Unanswered {
		t.Fatalf("live waiting %d, the chart's last sample %d", b.Waiting, billing[60].Unanswered)
	}
}

// TestSupervisor_QueueThresholdsValidated: the admin sets a queue's alert
// thresholds; bad values are refused with a sentence and change nothing.
func TestSupervisor_QueueThresholdsValidated(t *testing.T) {
	se := mustStartSuper(t)
	se.API.SetRoutingAdmin(se.r, nil)
	var q backend.Queue
	if st := se.Do(t, se.admin, "PUT", "/api/queues/"+se.support, `{"name":"Support","slaSeconds":20,"alertWaitSeconds":90,"alertWaiting":4}`, &q); st != 200 ||
		q.AlertWaitSeconds != 90 || q.AlertWaiting != 4 {
		t.Fatalf("set thresholds: %d %+v", st, q)
	}
	for _, body := range []string{
		`{"name":"Support","alertWaitSeconds":-1}`,
		`{"name":"Support","alertWaiting":-3}`,
		`{"name":"Support","alertWaiting":"many"}`,
		`{"name":"Support","alertWaitSeconds":1.5}`,
	} {
		var e api.ErrorResponse
		if st := se.Do(t, se.admin, "PUT", "/api/queues/"+se.support, body, &e); st != 400 || e.Error.Code != backend.EInvalid || !strings.HasSuffix(e.Error.Message, ".") {
			t.Errorf("PUT %s: %d %+v", body, st, e)
		}
	}
	var qs []backend.Queue
	se.Do(t, se.admin, "GET", "/api/queues", "", &qs)
	for _, q := range qs {
		if q.ID == se.support && (q.AlertWaitSeconds != 90 || q.AlertWaiting != 4) {
			t.Fatalf("a refused change was kept: %+v", q)
		}
	}
	if st := se.Do(t, se.sup, "PUT", "/api/queues/"+se.support, `{"name":"Support","alertWaiting":1}`, nil); st != 403 {
		t.Fatalf("a supervisor changing thresholds: %d", st)
	}
}

// TestSupervisor_LiveViewOnConnect: a supervisor whose socket (re)connects
// gets the live view at once, with nothing changing in routing.
// countingLive counts the live views made.
type countingLive struct {
	api.LiveRouter
	n atomic.Int64
}

func (c *countingLive) Live(ctx context.Context) (*backend.RoutingLive, error) {
	c.n.Add(1)
	return c.LiveRouter.Live(ctx)
}

// TestSupervisor_NoLiveViewWithoutSupervisors: routing changes make no
// live view while no supervisor or admin is connected to see it; one who
// connects gets it then.
func TestSupervisor_NoLiveViewWithoutSupervisors(t *testing.T) {
	counter := &countingLive{}
	se := mustStartSuperWith(t, func(r api.LiveRouter) api.LiveRouter { counter.LiveRouter = r; return counter })
	last, _ := se.DB.LastSeq(context.Background())
	agent := dialFeed(t, se.testEngine, se.agent, last)
	se.task(t, backend.ChannelChat, se.support)
	readUntil(t, agent, func(f *liveFrame) bool {
		return slices.ContainsFunc(f.Events, func(e backend.Event) bool { return e.Type == backend.EventReservationUpserted })
	}, nil)
	last, _ = se.DB.LastSeq(context.Background())
	readUntil(t, dialFeed(t, se.testEngine, se.sup, last), func(f *liveFrame) bool {
		return f.Type == backend.EventSupervisorLive && queueOf(f.Live, se.support).Tasks[backend.TaskReserved] == 1
	}, nil)
	if n := counter.n.Load(); n != 1 {
		t.Fatalf("%d live views made, want 1: the supervisor's on connecting", n)
	}
}

func TestSupervisor_LiveViewOnConnect(t *testing.T) {
	se := mustStartSuper(t)
	last, _ := se.DB.LastSeq(context.Background())
	waiting := func(f *liveFrame) bool {
		return f.Type == backend.EventSupervisorLive && queueOf(f.Live, se.billing).Waiting == 1
	}
	// The admin's socket sees the view pushed for the task: that push is
	// over before the supervisor connects.
	admin := dialFeed(t, se.testEngine, se.admin, last)
	readUntil(t, admin, func(f *liveFrame) bool { return f.Type == backend.EventSupervisorLive }, nil)
	se.task(t, backend.ChannelVoice, se.billing)
	readUntil(t, admin, waiting, nil)
	last, _ = se.DB.LastSeq(context.Background())
	readUntil(t, dialFeed(t, se.testEngine, se.sup, last), waiting, nil)
}
