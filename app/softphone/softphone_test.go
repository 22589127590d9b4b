package softphone_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/backend"
	"switchboard/backend/voice/dsp"
	"switchboard/backend/voice/voicetest"
)

// Tones each party speaks in, so every direction can be told apart.
const (
	callerTone = 440
	anaTone    = 1000
	benTone    = 1500
)

func TestSoftphone_TrunkCallThroughIVRHoldWarmTransfer(t *testing.T) {
	ctx := context.Background()
	e := MustStartEngine(t)
	sms, _, err := e.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: "sms.twilio", Instance: "main",
		ExternalUserID: callerPhone, ExternalID: "SM1", Text: "I will call you about my order"})
	if err != nil {
		t.Fatal(err)
	}
	ana := e.MustAgent(t, "ana@example.com", anaTone)
	ben := e.MustAgent(t, "ben@example.com", benTone)
	e.do(t, ben.token, "POST", "/api/me/activity", `{"activity":"Break"}`, nil, 200) // the call goes to Ana

	caller, err := voicetest.Dial(ctx, e.Voice.SIPAddr(), callerPhone, trunkNumber, callerTone)
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	caller.Press("2") // support, typed ahead during the greeting

	callID := answerHoldTransfer(t, e, ana, ben, caller)

	// DTMF both ways: Ben's keys reach the caller as RFC 4733 events, the
	// caller's reach Ben's phone.
	if err := ben.phone.SendDTMF(callID, "5#"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the caller to receive 5#", func() bool { return caller.Keys() == "5#" })
	caller.Press("7")
	if ev := ben.next(t, "dtmf"); ev.Digits != "7" {
		t.Fatalf("Ben's phone heard %q", ev.Digits)
	}

	// The caller hangs up.
	if err := caller.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	ben.next(t, "ended")
	finish(t, e, callID, sms, ben)
}

// finish checks the ended call, its recording and the caller's timeline.
func finish(t *testing.T, e *engine, callID string, sms *backend.Message, ben *agent) {
	ctx := context.Background()
	var call backend.Call
	waitFor(t, "the call to end", func() bool {
		c, err := e.DB.FindCall(ctx, callID)
		if err == nil {
			call = *c
		}
		return err == nil && c.State == backend.CallEnded
	})
	if call.UserID != ben.user.ID || call.AnsweredAt.IsZero() || call.Recording == "" {
		t.Fatalf("call = %+v", call)
	}
	checkRecording(t, filepath.Join(e.Config.DataDir, "voice", call.Recording))

	// The call sits in the caller's one timeline, next to their SMS.
	if call.ContactID != sms.ContactID {
		t.Fatalf("the call's contact %s is not the SMS's %s", call.ContactID, sms.ContactID)
	}
	checkTimeline(t, e, sms.ContactID, call)
}

// ear is the caller's side, listening to what the caller hears.
type ear interface {
	ToneShare(freq float64) (int, float64)
	ResetHeard()
}

// answerHoldTransfer has Ana answer the ringing call, checks audio both
// ways, holds and resumes, consults Ben and transfers the caller to him.
// It returns the call's id.
func answerHoldTransfer(t *testing.T, e *engine, ana, ben *agent, ear ear) string {
	in := ana.next(t, "incoming")
	// The ringing card names the caller and the queue the call waited in.
	if in.Call.From != callerPhone || in.Call.ReservationID == "" || in.Call.QueueID == "" || in.Call.QueueName != e.queueName(t, in.Call.QueueID) {
		t.Fatalf("incoming = %+v", in.Call)
	}
	if err := ana.phone.Answer(in.Call.ID); err != nil {
		t.Fatal(err)
	}
	ana.nextState(t, backend.CallConnected)
	waitFor(t, "Ana to hear the caller", func() bool { return hears(ana.speaker, callerTone) })
	waitFor(t, "the caller to hear Ana", func() bool { return callerHears(ear, anaTone) })

	// Hold: the caller hears music, not Ana; Ana hears nothing.
	if err := ana.phone.Hold(in.Call.ID, true); err != nil {
		t.Fatal(err)
	}
	ana.nextState(t, backend.CallHeld)
	ear.ResetHeard()
	ana.speaker.Reset()
	// Half a second of what the caller hears on hold (the music).
	waitFor(t, "the caller to hear the hold music", func() bool { n, _ := ear.ToneShare(anaTone); return n >= 25 })
	if n, share := ear.ToneShare(anaTone); n < 25 || share > 0.1 {
		t.Fatalf("on hold the caller heard Ana in %.0f%% of %d frames", 100*share, n)
	}
	if _, share := ana.speaker.ToneShare(callerTone); share > 0.1 {
		t.Fatalf("on hold Ana heard the caller in %.0f%% of frames", 100*share)
	}
	if err := ana.phone.Hold(in.Call.ID, false); err != nil {
		t.Fatal(err)
	}
	ana.nextState(t, backend.CallConnected)
	waitFor(t, "the caller to hear Ana again", func() bool { return callerHears(ear, anaTone) })

	// Warm transfer: Ana consults Ben, then hands the caller over.
	e.do(t, ben.token, "POST", "/api/me/activity", `{"activity":"Available"}`, nil, 200)
	if err := ana.phone.Consult(in.Call.ID, ben.worker.ID); err != nil {
		t.Fatal(err)
	}
	consult := ben.next(t, "incoming")
	if !consult.Call.Consult || consult.Call.FromAgent != "Ana Agent" {
		t.Fatalf("consult = %+v", consult.Call)
	}
	if err := ben.phone.Answer(in.Call.ID); err != nil {
		t.Fatal(err)
	}
	ana.nextState(t, backend.CallConsulting)
	waitFor(t, "Ben to hear Ana", func() bool { return hears(ben.speaker, anaTone) })
	waitFor(t, "Ana to hear Ben", func() bool { return hears(ana.speaker, benTone) })
	if err := ana.phone.CompleteTransfer(in.Call.ID); err != nil {
		t.Fatal(err)
	}
	if ended := ana.next(t, "ended"); ended.Call.EndReason != "transferred" {
		t.Fatalf("Ana's call ended with %q", ended.Call.EndReason)
	}
	ben.speaker.Reset()
	waitFor(t, "Ben to hear the caller", func() bool { return hears(ben.speaker, callerTone) })
	waitFor(t, "the caller to hear Ben", func() bool { return callerHears(ear, benTone) })

	return in.Call.ID
}

// callerHears reports whether the caller heard freq in most recent frames.
func callerHears(c ear, freq float64) bool {
	n, share := c.ToneShare(freq)
	if n > 50 && share < 0.8 {
		c.ResetHeard()
	}
	return n >= 25 && share > 0.8
}

// nextState waits for the call to reach a state on the agent's phone.
func (a *agent) nextState(tb testing.TB, state string) {
	tb.Helper()
	for {
		ev := a.next(tb, "state")
		if ev.Call.State == state {
			return
		}
	}
}

// queueName returns a queue's name from routing.
func (e *engine) queueName(tb testing.TB, id string) string {
	tb.Helper()
	queues, err := e.Routing.Queues(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	for _, q := range queues {
		if q.ID == id && q.Name != "" {
			return q.Name
		}
	}
	tb.Fatalf("no queue %q with a name", id)
	return ""
}

// checkRecording checks that the recording holds the caller on the left
// and the agents on the right.
func checkRecording(tb testing.TB, path string) {
	tb.Helper()
	left, right, err := dsp.ReadStereoWAV(path)
	if err != nil {
		tb.Fatal(err)
	}
	if n, share := voicetest.ToneShare(left, callerTone); n < 100 || share < 0.5 {
		tb.Fatalf("the recording's caller side has the caller's tone in %.0f%% of %d frames", 100*share, n)
	}
	for _, f := range []float64{anaTone, benTone} {
		if n, share := voicetest.ToneShare(right, f); n < 100 || share < 0.1 {
			tb.Fatalf("the recording's agent side has %v Hz in %.0f%% of %d frames", f, 100*share, n)
		}
	}
}

// checkTimeline checks the caller's contact has the call's notes with the
// recording next to the SMS, in the conversations an admin lists.
func checkTimeline(tb testing.TB, e *engine, contactID string, call backend.Call) {
	tb.Helper()
	var convs []backend.Conversation
	e.do(tb, e.admin, "GET", "/api/conversations?contact="+contactID, "", &convs, 200)
	channels := map[string]string{}
	for _, c := range convs {
		channels[c.Channel] = c.ID
	}
	if channels["sms.twilio"] == "" || channels[backend.CallChannelSIP] != call.ConversationID {
		tb.Fatalf("contact conversations = %v", channels)
	}
	all, recording := e.callTimeline(tb, e.admin, call)
	for _, want := range []string{"Incoming call from " + callerPhone, "Answered by Ana Agent", "Transferred from Ana Agent to Ben Agent", "Call with Ben Agent ended"} {
		if !strings.Contains(all, want) {
			tb.Fatalf("timeline %q lacks %q", all, want)
		}
	}
	if !recording {
		tb.Fatalf("no recording attached in %q", all)
	}
}
