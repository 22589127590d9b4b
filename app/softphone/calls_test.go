package softphone_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/app/softphone"
	"switchboard/backend"
	"switchboard/backend/server"
	"switchboard/backend/voice/dsp"
	"switchboard/backend/voice/voicetest"
)

// A lossy, jittery path between the phone network and the engine moves the
// softphone's quality figures past Twilio's thresholds and raises the
// warning; a clean path keeps the MOS estimate high and loses nothing.
//
// Jitter is measured on the wall clock, as a phone must: on a starved
// machine the caller's own 20 ms pacing and the relay run late, so a clean
// loopback call can really arrive with more than 30 ms of jitter (34.6 ms
// once at load 12-15). The softphone must then say so; what the clean call
// must not show is loss, a low MOS, or a warning its figures do not bear.
func TestSoftphone_QualityFiguresAndWarning(t *testing.T) {
	e := MustStartEngine(t)
	e.setFlow(t, `{"name":"Straight to an agent","widgets":[
		{"name":"trigger","type":"trigger","transitions":{"incomingCall":"enqueue"}},
		{"name":"enqueue","type":"enqueue-call","properties":{"attributes":{"department":"support"}},"transitions":{"failed":"bye"}},
		{"name":"bye","type":"hangup"}]}`)
	ana := e.MustAgent(t, "ana@example.com", anaTone)

	clean := callAndAnswer(t, e, ana, 0, 0)
	q := ana.quality(t, clean, func(q dsp.Quality) bool { return q.MOS > 0 })
	if q.LossPercent > 0.5 || q.MOS < 4.2 || !slices.Equal(q.Warnings, warningsOf(q)) {
		t.Fatalf("clean loopback quality = %+v", q)
	}
	cleanJitter := q.JitterMs
	if err := ana.phone.Hangup(clean); err != nil {
		t.Fatal(err)
	}
	ana.next(t, "ended")
	call := e.waitEnded(t, clean)
	e.do(t, ana.token, "POST", "/api/tasks/"+call.TaskID+"/complete", `{"disposition":"Resolved"}`, nil, 200)
	lossy := callAndAnswer(t, e, ana, 0.08, 150*time.Millisecond)
	q = ana.quality(t, lossy, func(q dsp.Quality) bool { return slices.Contains(q.Warnings, "loss") })
	if q.LossPercent <= dsp.WarnLossPercent || q.JitterMs <= 10 || q.JitterMs <= cleanJitter || q.MOS >= 4.2 {
		t.Fatalf("lossy path quality = %+v (clean path jitter %.1f ms)", q, cleanJitter)
	}
}

// warningsOf is what Twilio's thresholds say of a clean path's figures: a
// jitter warning exactly when its jitter passed 30 ms, nothing else.
func warningsOf(q dsp.Quality) []string {
	if q.JitterMs > dsp.WarnJitterMs {
		return []string{"jitter"}
	}
	return nil
}

// callAndAnswer places a call through a path with loss and jitter, has the
// agent answer, and returns the call's id on the agent's phone.
func callAndAnswer(t *testing.T, e *engine, a *agent, loss float64, jitter time.Duration) string {
	t.Helper()
	c, err := voicetest.Invite(context.Background(), e.Voice.SIPAddr(), callerPhone, trunkNumber, callerTone)
	if err != nil {
		t.Fatal(err)
	}
	c.Loss, c.Jitter = loss, jitter
	if err := c.Answered(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	in := a.next(t, "incoming")
	if err := a.phone.Answer(in.Call.ID); err != nil {
		t.Fatal(err)
	}
	a.nextState(t, backend.CallConnected)
	return in.Call.ID
}

// quality waits for a quality report of a call that satisfies ok.
func (a *agent) quality(tb testing.TB, callID string, ok func(dsp.Quality) bool) dsp.Quality {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := a.phone.Call(callID); err == nil {
			if q := c.Quality(); ok(q) {
				return q
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	c, _ := a.phone.Call(callID)
	tb.Fatalf("no fitting quality report; last %+v", c.Quality())
	return dsp.Quality{}
}

// straightToAgent is a voice flow that queues every call for an agent.
const straightToAgent = `{"name":"Straight to an agent","widgets":[
	{"name":"trigger","type":"trigger","transitions":{"incomingCall":"enqueue"}},
	{"name":"enqueue","type":"enqueue-call","transitions":{"failed":"bye"}},
	{"name":"bye","type":"hangup"}]}`

// setFlow gives the trunk its own voice flow.
func (e *engine) setFlow(tb testing.TB, flow string) {
	tb.Helper()
	e.do(tb, e.admin, "PUT", "/api/flows/voice.sip/main", flow, nil, 200)
}

// A caller who hangs up while the call rings (CANCEL before any answer)
// leaves a missed call in the inbox, and the agent's ringing stops.
func TestSoftphone_CancelBeforeAnswerIsAMissedCall(t *testing.T) {
	e := MustStartEngine(t)
	e.setFlow(t, `{"name":"Ring the agents","widgets":[
		{"name":"trigger","type":"trigger","transitions":{"incomingCall":"enqueue"}},
		{"name":"enqueue","type":"enqueue-call","properties":{"holdMusic":"none"},"transitions":{"failed":"bye"}},
		{"name":"bye","type":"hangup"}]}`)
	ana := e.MustAgent(t, "ana@example.com", anaTone)
	c, err := voicetest.Invite(context.Background(), e.Voice.SIPAddr(), callerPhone, trunkNumber, callerTone)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	answered := make(chan error, 1)
	go func() { answered <- c.Answered(ctx) }()
	in := ana.next(t, "incoming")
	cancel() // CANCEL while Ana's phone rings
	if err := <-answered; err == nil {
		t.Fatal("the call was answered although the caller canceled")
	}
	if ev := ana.next(t, "ended"); ev.Call.ID != in.Call.ID {
		t.Fatalf("ended %+v", ev.Call)
	}
	call := e.waitEnded(t, in.Call.ID)
	if !call.AnsweredAt.IsZero() {
		t.Fatalf("call = %+v", call)
	}
	conv, err := e.DB.FindConversationByID(context.Background(), call.ConversationID)
	if err != nil || conv.Status != backend.StatusOpen || conv.AssigneeID != "" || conv.LastMessageText != "Missed call." {
		t.Fatalf("conversation = %+v, %v", conv, err)
	}
	// The engine stores the ended call first and then cancels its task
	// through the router, whose change waits for its own commit.
	waitFor(t, "the task to be canceled", func() bool {
		task, err := e.Routing.Task(context.Background(), call.TaskID)
		return err == nil && task.State == backend.TaskCanceled
	})
}

// waitEnded waits until the store has the call ended.
func (e *engine) waitEnded(tb testing.TB, id string) backend.Call {
	tb.Helper()
	var call backend.Call
	waitFor(tb, "the call to end", func() bool {
		c, err := e.DB.FindCall(context.Background(), id)
		if err == nil {
			call = *c
		}
		return err == nil && c.State == backend.CallEnded
	})
	return call
}

// A voicemail flow records the caller until they press #, hangs up, and
// leaves the voicemail in the inbox; only supervisors and the agent who
// had a call may play its audio.
func TestSoftphone_VoicemailAndWhoMayHearIt(t *testing.T) {
	e := MustStartEngine(t)
	e.setFlow(t, `{"name":"Voicemail","widgets":[
		{"name":"trigger","type":"trigger","transitions":{"incomingCall":"record"}},
		{"name":"record","type":"record-voicemail","properties":{"maxLength":20},"transitions":{"recordingComplete":"bye"}},
		{"name":"bye","type":"hangup"}]}`)
	caller, err := voicetest.Dial(context.Background(), e.Voice.SIPAddr(), callerPhone, trunkNumber, callerTone)
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	// The recording starts once the beep (1 kHz, 25 frames) has played;
	// then the caller speaks for a second and a half and presses #.
	waitFor(t, "the caller to hear the beep", func() bool {
		n, share := caller.ToneShare(1000)
		return float64(n)*share >= 20
	})
	spoken := caller.Spoken()
	waitFor(t, "a second and a half of the caller's tone", func() bool { return caller.Spoken() >= spoken+75 })
	caller.Press("#")
	select {
	case <-caller.Ended():
	case <-time.After(20 * time.Second):
		t.Fatal("the flow did not hang up after the voicemail")
	}
	var id string
	waitFor(t, "the call to be stored", func() bool {
		calls, _ := e.DB.FindLiveCalls(context.Background())
		return len(calls) == 0
	})
	convs, err := e.DB.FindConversations(context.Background(), backend.ConversationFilter{Channel: backend.CallChannelSIP})
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations = %v, %v", convs, err)
	}
	msgs, _ := e.DB.FindMessages(context.Background(), convs[0].ID)
	for _, m := range msgs {
		for _, a := range m.Attachments {
			if strings.HasSuffix(a.URL, "/voicemail") {
				id = strings.Split(a.URL, "/")[3]
			}
		}
	}
	if id == "" || convs[0].Status != backend.StatusOpen {
		t.Fatalf("no voicemail in the inbox: %+v", convs[0])
	}
	call := e.waitEnded(t, id)
	pcm, err := dsp.ReadWAVFile(filepath.Join(e.Config.DataDir, "voice", call.Voicemail))
	if err != nil {
		t.Fatal(err)
	}
	if n, share := voicetest.ToneShare(pcm, callerTone); n < 40 || share < 0.6 {
		t.Fatalf("the voicemail has the caller's tone in %.0f%% of %d frames", 100*share, n)
	}
	for _, tc := range []struct {
		email string
		want  int
	}{{"ana@example.com", 404}, {"sue@example.com", 200}, {"admin@example.com", 200}} {
		t.Run(tc.email, func(t *testing.T) {
			e.do(t, e.signIn(t, tc.email), "GET", fmt.Sprintf("/api/calls/%s/voicemail", id), "", nil, tc.want)
			e.do(t, e.signIn(t, tc.email), "GET", "/api/calls/"+id, "", nil, tc.want)
		})
	}
}

// A ringing call that the agent does not answer times out like any offer
// and rings the next agent.
func TestSoftphone_UnansweredCallRingsTheNextAgent(t *testing.T) {
	// Offers time out on a clock the test moves: the first ring ends when
	// the test says so, and the second rings until it is answered.
	clock := backend.NewFakeClock(time.Now())
	e := MustStartEngine(t, func(c *server.Config) { c.RoutingClock = clock })
	ctx := context.Background()
	wf, err := e.Routing.Workflows(ctx)
	if err != nil || len(wf) != 1 {
		t.Fatalf("workflows = %v, %v", wf, err)
	}
	wf[0].ReservationTimeoutSeconds = 1
	if _, err := e.Routing.UpsertWorkflow(ctx, wf[0]); err != nil {
		t.Fatal(err)
	}
	e.setFlow(t, straightToAgent)
	ana := e.MustAgent(t, "ana@example.com", anaTone)
	ben := e.MustAgent(t, "ben@example.com", benTone)
	caller, err := voicetest.Dial(ctx, e.Voice.SIPAddr(), callerPhone, trunkNumber, callerTone)
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	first, second := ana, ben
	var in softphone.Event
	select {
	case in = <-ana.events:
	case in = <-ben.events:
		first, second = ben, ana
	case <-time.After(20 * time.Second):
		t.Fatal("nobody's phone rang")
	}
	if in.Type != "incoming" {
		t.Fatalf("first event %+v", in)
	}
	// The router armed the ring's timeout in the step that offered the call,
	// under its lock; any call into the router waits for that step to end.
	if _, err := e.Routing.Workers(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if ev := first.next(t, "ended"); ev.Call.EndReason != backend.ReservationTimeout {
		t.Fatalf("the ring ended with %q", ev.Call.EndReason)
	}
	again := second.next(t, "incoming")
	if again.Call.ID != in.Call.ID {
		t.Fatalf("%s got call %s, not %s", second.user.Name, again.Call.ID, in.Call.ID)
	}
	if err := second.phone.Answer(again.Call.ID); err != nil {
		t.Fatal(err)
	}
	second.nextState(t, backend.CallConnected)
}

// A softphone that connects while a call is already ringing its agent
// still rings: the ring went out before the phone's socket was open (the
// desktop's feed socket may open first, or the phone was reconnecting),
// and the engine greets every new connection with the calls ringing its
// user. Offers never time out here (the routing clock stands still), so
// only that greeting can ring the phone.
func TestSoftphone_PhoneThatConnectsWhileRungStillRings(t *testing.T) {
	e := MustStartEngine(t, func(c *server.Config) { c.RoutingClock = backend.NewFakeClock(time.Now()) })
	e.setFlow(t, straightToAgent)
	ctx := context.Background()
	ana := &agent{token: e.signIn(t, "ana@example.com"), speaker: softphone.NewCapture(50), events: make(chan softphone.Event, 256)}
	e.do(t, ana.token, "GET", "/api/me", "", &ana.user, 200)
	e.do(t, ana.token, "GET", "/api/me/worker", "", &ana.worker, 200)
	e.do(t, ana.token, "POST", "/api/me/activity", `{"activity":"Available"}`, nil, 200)
	caller, err := voicetest.Dial(ctx, e.Voice.SIPAddr(), callerPhone, trunkNumber, callerTone)
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	// Ana's desktop has its feed socket open, and the ring reaches it first.
	u := "ws" + strings.TrimPrefix(e.URL(), "http") + "/api/ws?since=9223372036854775807"
	feed, _, err := websocket.DefaultDialer.DialContext(ctx, u, http.Header{"Authorization": {"Bearer " + ana.token}})
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	feed.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		var f struct{ Type string }
		if err := feed.ReadJSON(&f); err != nil {
			t.Fatalf("no ring on Ana's feed socket: %v", err)
		}
		if f.Type == "voice.incoming" {
			break
		}
	}

	// The greeting holds only the user's own ringing calls.
	var ben backend.User
	e.do(t, e.signIn(t, "ben@example.com"), "GET", "/api/me", "", &ben, 200)
	if got := e.Voice.Ringing(ben.ID); len(got) != 0 {
		t.Fatalf("Ben's connection would be greeted with %d of Ana's rings", len(got))
	}
	if got := e.Voice.Ringing(ana.user.ID); len(got) != 1 {
		t.Fatalf("Ana's connection would be greeted with %d rings, want 1", len(got))
	}

	ana.dialPhone(t, e, anaTone)
	in := ana.next(t, "incoming")
	if in.Call.From != callerPhone {
		t.Fatalf("incoming = %+v", in.Call)
	}
	if err := ana.phone.Answer(in.Call.ID); err != nil {
		t.Fatal(err)
	}
	ana.nextState(t, backend.CallConnected)
	waitFor(t, "Ana to hear the caller", func() bool { return hears(ana.speaker, callerTone) })
}
