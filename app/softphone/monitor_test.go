package softphone_test

import (
	"context"
	"fmt"
	"testing"

	"switchboard/app/softphone"
	"switchboard/backend"
	"switchboard/backend/voice/voicetest"
)

// sueTone is the supervisor's voice: apart from the caller's, Ana's and
// Ben's tones and their harmonics.
const sueTone = 2500

// Thresholds for tones in a mix: a tone mixed with one other holds about
// half of a frame's power, so "present" is a fifth of it; "absent" is a
// twentieth, which a tone that is not there never reaches.
const (
	mixedPresent = 0.2
	mixedAbsent  = 0.05
)

// A supervisor joins Ana's call three ways and leaves: listening, their
// softphone hears the caller and Ana and nobody hears them; whispering,
// Ana hears them and the caller does not; barging in, both do. Agents may
// not join calls, and a second supervisor waits for the first to leave.
func TestSoftphone_SupervisorListensWhispersAndBarges(t *testing.T) {
	ctx := context.Background()
	e := MustStartEngine(t)
	e.setFlow(t, straightToAgent)
	ana := e.MustAgent(t, "ana@example.com", anaTone)
	ben := e.MustAgent(t, "ben@example.com", benTone)
	e.do(t, ben.token, "POST", "/api/me/activity", `{"activity":"Break"}`, nil, 200)
	sue := e.MustSupervisor(t, "sue@example.com", sueTone)
	caller, err := voicetest.Dial(ctx, e.Voice.SIPAddr(), callerPhone, trunkNumber, callerTone)
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	in := ana.next(t, "incoming")
	if err := ana.phone.Answer(in.Call.ID); err != nil {
		t.Fatal(err)
	}
	ana.nextState(t, backend.CallConnected)
	id := in.Call.ID
	monitor := fmt.Sprintf("/api/calls/%s/monitor", id)

	// Agents may not join a call, not even their own.
	e.do(t, ana.token, "POST", monitor, `{"mode":"listen"}`, nil, 403)
	e.do(t, ben.token, "POST", monitor, `{"mode":"barge"}`, nil, 403)
	e.do(t, sue.token, "POST", monitor, `{"mode":"shout"}`, nil, 400)

	// Listen: Sue hears both sides; Ana and the caller hear only each other.
	e.do(t, sue.token, "POST", monitor, `{"mode":"listen"}`, nil, 200)
	if ev := sue.nextMonitor(t, backend.MonitorListen); ev.Call.ID != id || ev.Call.UserID != ana.user.ID {
		t.Fatalf("Sue's phone shows %+v", ev.Call)
	}
	checkHeard(t, "Sue while she listens", sue.speaker, sue.speaker.Reset, map[float64]bool{callerTone: true, anaTone: true, sueTone: false})
	checkHeard(t, "Ana while Sue listens", ana.speaker, ana.speaker.Reset, map[float64]bool{callerTone: true, sueTone: false})
	checkHeard(t, "the caller while Sue listens", caller, caller.ResetHeard, map[float64]bool{anaTone: true, sueTone: false})
	e.do(t, e.admin, "POST", monitor, `{"mode":"listen"}`, nil, 409) // one supervisor at a time

	// Whisper: Ana hears the caller and Sue; the caller still hears Ana alone.
	e.do(t, sue.token, "POST", monitor, `{"mode":"whisper"}`, nil, 200)
	sue.nextMonitor(t, backend.MonitorWhisper)
	checkHeard(t, "Ana while Sue whispers", ana.speaker, ana.speaker.Reset, map[float64]bool{callerTone: true, sueTone: true})
	checkHeard(t, "the caller while Sue whispers", caller, caller.ResetHeard, map[float64]bool{anaTone: true, sueTone: false})
	checkHeard(t, "Sue while she whispers", sue.speaker, sue.speaker.Reset, map[float64]bool{callerTone: true, anaTone: true, sueTone: false})

	// Barge: everyone hears everyone.
	e.do(t, sue.token, "POST", monitor, `{"mode":"barge"}`, nil, 200)
	sue.nextMonitor(t, backend.MonitorBarge)
	checkHeard(t, "the caller while Sue barges in", caller, caller.ResetHeard, map[float64]bool{anaTone: true, sueTone: true})
	checkHeard(t, "Ana while Sue barges in", ana.speaker, ana.speaker.Reset, map[float64]bool{callerTone: true, sueTone: true})

	// Leaving puts the call back as it was.
	e.do(t, sue.token, "DELETE", monitor, "", nil, 204)
	if ev := sue.next(t, "ended"); ev.Call.ID != id {
		t.Fatalf("Sue's phone ended %+v", ev.Call)
	}
	checkHeard(t, "the caller after Sue left", caller, caller.ResetHeard, map[float64]bool{anaTone: true, sueTone: false})
	checkHeard(t, "Ana after Sue left", ana.speaker, ana.speaker.Reset, map[float64]bool{callerTone: true, sueTone: false})
	e.do(t, sue.token, "DELETE", monitor, "", nil, 404)
	if call, err := e.DB.FindCall(ctx, id); err != nil || call.State != backend.CallConnected || call.UserID != ana.user.ID {
		t.Fatalf("call after the supervisor left = %+v, %v", call, err)
	}

	// The admin may join now; the call's end ends their leg too.
	e.do(t, e.admin, "POST", monitor, `{"mode":"listen"}`, nil, 200)
	if err := caller.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	ana.next(t, "ended")
	e.waitEnded(t, id)
	e.do(t, sue.token, "POST", monitor, `{"mode":"listen"}`, nil, 404)
}

// nextMonitor waits until the phone shows how its user is on a call.
func (a *agent) nextMonitor(tb testing.TB, mode string) softphone.Event {
	tb.Helper()
	for {
		if ev := a.next(tb, "state"); ev.Call.Monitor == mode && ev.Call.State == backend.CallConnected {
			return ev
		}
	}
}

// listener is what a party heard: a softphone's capture or the caller.
type listener interface {
	ToneShareAt(freq, threshold float64) (int, float64)
}

// checkHeard lets what is in flight pass, then judges the next second a
// party hears: every tone marked true stands out in at least 80 % of its
// frames, mixed or not, and a tone marked false in none but a stray one.
func checkHeard(tb testing.TB, who string, e listener, reset func(), tones map[float64]bool) {
	tb.Helper()
	frames := func(n int) func() bool {
		return func() bool { got, _ := e.ToneShareAt(callerTone, 0); return got >= n }
	}
	reset()
	waitFor(tb, who+" to hear audio", frames(10))
	reset()
	waitFor(tb, who+" to hear a second", frames(50))
	for freq, want := range tones {
		if want {
			if n, share := e.ToneShareAt(freq, mixedPresent); share < 0.8 {
				tb.Fatalf("%s heard %.0f Hz in only %.0f%% of %d frames", who, freq, 100*share, n)
			}
		} else if n, share := e.ToneShareAt(freq, mixedAbsent); share > 0.04 {
			tb.Fatalf("%s heard %.0f Hz in %.0f%% of %d frames", who, freq, 100*share, n)
		}
	}
}
