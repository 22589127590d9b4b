package storetest

import (
	"context"
	"log/slog"
	"math"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/routing"
	"switchboard/backend/secret"
)

// reportDay is a Monday.
var reportDay = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// reportHarness is the routing engine on a real store, on a fake clock.
type reportHarness struct {
	t     *testing.T
	ctx   context.Context
	clock *backend.FakeClock
	db    Store
	e     *routing.Engine
	queue *backend.Queue
	ana   *backend.Worker
}

func mustReportHarness(t *testing.T, sh harness) *reportHarness {
	t.Helper()
	h := &reportHarness{t: t, ctx: context.Background(), clock: backend.NewFakeClock(reportDay)}
	h.db = sh.openWith(t, sh.b.New(t), Options{Key: secret.MustNew(), Now: h.clock.Now})
	h.e = routing.New(h.db, routing.Options{Clock: h.clock, ReservationTimeout: 5 * time.Minute, Logger: slog.New(slog.DiscardHandler)})
	if err := h.e.Start(h.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.e.Close() })
	var err error
	if h.queue, err = h.e.UpsertQueue(h.ctx, &backend.Queue{Name: "Support", SLASeconds: 35}); err != nil {
		t.Fatal(err)
	}
	if h.ana, err = h.e.UpsertWorker(h.ctx, &backend.Worker{Name: "Ana", Activity: backend.ActivityAvailable,
		Capacity: map[string]int{backend.ChannelVoice: 0}}); err != nil {
		t.Fatal(err)
	}
	return h
}

// task creates a task in the queue and returns its offer to Ana, if any.
func (h *reportHarness) task(channel, conversation string) (*backend.Task, *backend.Reservation) {
	h.t.Helper()
	task, err := h.e.CreateTask(h.ctx, backend.TaskInput{Channel: channel, QueueID: h.queue.ID, ConversationID: conversation})
	if err != nil {
		h.t.Fatal(err)
	}
	rs, err := h.e.Reservations(h.ctx, h.ana.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, r := range rs {
		if r.TaskID == task.ID {
			return task, r
		}
	}
	return task, nil
}

func (h *reportHarness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *reportHarness) accept(r *backend.Reservation) {
	h.t.Helper()
	_, err := h.e.AcceptReservation(h.ctx, r.ID)
	h.must(err)
}

func (h *reportHarness) complete(task *backend.Task) {
	h.t.Helper()
	_, err := h.e.CompleteTask(h.ctx, task.ID, "Resolved")
	h.must(err)
}

// seedReportDays stores, on Monday, in a queue with a 35 s SLA: a chat
// answered in 10 s and handled for 60 s whose conversation got an agent's
// reply 15 s after the task (after a private note at 5 s), a chat answered
// in 30 s (within the queue's SLA, past the default 20 s) and handled for
// 120 s, a call abandoned after 5 s, and an offer Ana
// rejected before going offline for the night; on Tuesday, back at work, a
// chat answered in 5 s (the declined task is offered to her again too).
func seedReportDays(h *reportHarness) {
	in, _, err := h.db.StoreInbound(h.ctx, &backend.InboundMessage{Channel: "telegram", Instance: "bot", ExternalUserID: "1", ExternalID: "1", Text: "hi"})
	h.must(err)
	a, ra := h.task(backend.ChannelChat, in.ConversationID)
	h.clock.Advance(5 * time.Second)
	_, _, err = h.db.StoreOutbound(h.ctx, &backend.OutboundMessage{ConversationID: in.ConversationID, Text: "note", Private: true, AuthorID: "u_ana"})
	h.must(err)
	h.clock.Advance(5 * time.Second)
	h.accept(ra)
	h.clock.Advance(5 * time.Second)
	_, _, err = h.db.StoreOutbound(h.ctx, &backend.OutboundMessage{ConversationID: in.ConversationID, Text: "Hello!", AuthorID: "u_ana"})
	h.must(err)
	h.clock.Advance(55 * time.Second)
	h.complete(a)

	b, rb := h.task(backend.ChannelChat, "")
	h.clock.Advance(30 * time.Second)
	h.accept(rb)
	h.clock.Advance(120 * time.Second)
	h.complete(b)

	c, rc := h.task(backend.ChannelVoice, "")
	if rc != nil {
		h.t.Fatal("a call was offered to Ana, who takes none")
	}
	h.clock.Advance(5 * time.Second)
	_, err = h.e.CancelTask(h.ctx, c.ID, "hangup")
	h.must(err)

	_, rd := h.task(backend.ChannelChat, "")
	_, err = h.e.RejectReservation(h.ctx, rd.ID)
	h.must(err)
	// Ana goes home: a declined task comes back to her after its cool-down,
	// so only her being away keeps Monday's night free of offers.
	_, err = h.e.SetWorkerActivity(h.ctx, h.ana.ID, backend.ActivityOffline)
	h.must(err)

	h.clock.Advance(24 * time.Hour)
	_, err = h.e.SetWorkerActivity(h.ctx, h.ana.ID, backend.ActivityAvailable)
	h.must(err)
	e, re := h.task(backend.ChannelChat, "")
	h.clock.Advance(5 * time.Second)
	h.accept(re)
	h.complete(e)
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.01 }

// testReportFiguresByDayWeekAndGroup: a report's figures by day, by week
// and by channel and agent, and the refused queries.
func testReportFiguresByDayWeekAndGroup(t *testing.T, sh harness) {
	h := mustReportHarness(t, sh)
	seedReportDays(h)
	monday := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	rows, err := h.db.Report(h.ctx, backend.ReportQuery{From: monday, To: monday.AddDate(0, 0, 7)})
	h.must(err)
	if len(rows) != 2 || rows[0].Period != "2026-03-02" || rows[1].Period != "2026-03-03" {
		t.Fatalf("periods = %+v", rows)
	}
	// Monday: four tasks (one still waiting after Ana rejected it).
	m := rows[0].Figures
	if m.Volume != 4 || m.Answered != 2 || m.Abandoned != 1 || m.Handled != 2 || m.WithinSLA != 2 {
		t.Fatalf("monday counts = %+v", m)
	}
	if !near(m.AvgWaitSeconds, 20) || !near(m.AvgHandleSeconds, 90) || !near(m.AvgFirstResponseSeconds, 15) || !near(m.SLAPercent, 200.0/3) {
		t.Fatalf("monday times = %+v", m)
	}
	if d := rows[1].Figures; d.Volume != 1 || d.Answered != 1 || !near(d.AvgWaitSeconds, 5) || d.SLAPercent != 100 {
		t.Fatalf("tuesday = %+v", d)
	}

	weeks, err := h.db.Report(h.ctx, backend.ReportQuery{From: monday.AddDate(0, 0, 1), To: monday.AddDate(0, 0, 2), Week: true})
	h.must(err)
	if len(weeks) != 1 || weeks[0].Period != "2026-03-02" || weeks[0].Volume != 1 {
		t.Fatalf("a week's report clipped to Tuesday = %+v", weeks)
	}
	byChannel, err := h.db.Report(h.ctx, backend.ReportQuery{From: monday, To: monday.AddDate(0, 0, 1), By: backend.ReportByChannel})
	h.must(err)
	if len(byChannel) != 2 || byChannel[0].Group != "chat" || byChannel[0].Volume != 3 || byChannel[1].Group != "voice" || byChannel[1].Abandoned != 1 {
		t.Fatalf("by channel = %+v", byChannel)
	}
	byAgent, err := h.db.Report(h.ctx, backend.ReportQuery{From: monday, To: monday.AddDate(0, 0, 1), By: backend.ReportByAgent})
	h.must(err)
	if got := byAgent[len(byAgent)-1]; got.Group != h.ana.ID || got.Handled != 2 {
		t.Fatalf("by agent = %+v", byAgent)
	}

	for _, bad := range []backend.ReportQuery{{From: monday, To: monday}, {From: monday, To: monday.AddDate(0, 0, 1), By: "colour"},
		{From: monday, To: monday.AddDate(10, 0, 0)}} {
		if _, err := h.db.Report(h.ctx, bad); backend.ErrorCode(err) != backend.EInvalid {
			t.Errorf("report %+v: err = %v, want invalid", bad, err)
		}
	}
}

// testReportDaysFollowTheTimeZone cuts days at local midnight: a task at
// 23:30 UTC on Monday is Tuesday's in Berlin.
func testReportDaysFollowTheTimeZone(t *testing.T, sh harness) {
	h := mustReportHarness(t, sh)
	h.clock.Advance(14*time.Hour + 30*time.Minute)
	h.task(backend.ChannelChat, "")
	berlin, err := time.LoadLocation("Europe/Berlin")
	h.must(err)
	from := time.Date(2026, 3, 2, 0, 0, 0, 0, berlin)
	rows, err := h.db.Report(h.ctx, backend.ReportQuery{From: from, To: from.AddDate(0, 0, 2), Location: berlin})
	h.must(err)
	if len(rows) != 1 || rows[0].Period != "2026-03-03" {
		t.Fatalf("rows = %+v", rows)
	}
}

// testQueueAndAgentFiguresToday: a day's figures per queue and per agent.
func testQueueAndAgentFiguresToday(t *testing.T, sh harness) {
	h := mustReportHarness(t, sh)
	seedReportDays(h)
	tuesday := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	q, err := h.db.QueueFigures(h.ctx, tuesday.AddDate(0, 0, -1), tuesday)
	h.must(err)
	if f := q[h.queue.ID]; f.Volume != 4 || f.Abandoned != 1 || !near(f.SLAPercent, 200.0/3) {
		t.Fatalf("monday's queue figures = %+v", f)
	}
	a, err := h.db.AgentFigures(h.ctx, tuesday.AddDate(0, 0, -1), tuesday)
	h.must(err)
	if d := a[h.ana.ID]; d.Handled != 2 || !near(d.AvgHandleSeconds, 90) || d.Rejected != 1 || d.TimedOut != 0 {
		t.Fatalf("ana's monday = %+v", d)
	}
	a, err = h.db.AgentFigures(h.ctx, tuesday, tuesday.AddDate(0, 0, 1))
	h.must(err)
	if d := a[h.ana.ID]; d.Handled != 1 || d.Rejected != 0 {
		t.Fatalf("ana's tuesday = %+v", d)
	}
}
