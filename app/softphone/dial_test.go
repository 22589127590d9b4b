package softphone_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/app/softphone"
	"switchboard/backend"
	"switchboard/backend/voice/voicetest"
)

// An agent dials a number: the engine calls out through the trunk's proxy
// (sipp as the carrier, which demands digest authentication), the agent
// hears the far end, hangs up, and the call joins the number's timeline.
// The engine also pings the proxy with OPTIONS once the trunk is saved: sipp
// ends after two calls, that keep-alive and the agent's.
func TestSoftphone_DialOutThroughTrunk(t *testing.T) {
	e := MustStartEngine(t)
	dir := t.TempDir()
	voicetest.WriteULawTone(t, filepath.Join(dir, "tone.wav"), callerTone, 60)
	port := voicetest.FreePort(t)
	done, out := voicetest.StartSipp(t, dir, filepath.Join("testdata", "callee.xml"), map[string]string{"{{TONE}}": "tone.wav"},
		"-m", "2", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(voicetest.FreePort(t)), "-timeout", "60s")
	e.do(t, e.admin, "PUT", "/api/voice/trunks/main", fmt.Sprintf(
		`{"config":{"allow":["127.0.0.1"],"proxy":"127.0.0.1:%d","username":"acme","password":"s3cret","callerId":"+15550100"}}`, port), nil, 200)
	ana := e.MustAgent(t, "ana@example.com", anaTone)
	voicetest.WaitBound(t, port)
	if err := ana.phone.Dial("call me"); err != nil {
		t.Fatal(err)
	}
	if ev := ana.next(t, "error"); !strings.Contains(ev.Error, "international format") {
		t.Fatalf("error = %q", ev.Error)
	}
	if err := ana.phone.Dial("+1 555 765-4321"); err != nil {
		t.Fatal(err)
	}
	st := ana.nextStateEvent(t, backend.CallConnected)
	if st.Call.Direction != backend.CallOutbound || st.Call.To != "+15557654321" || st.Call.From != "+15550100" {
		t.Fatalf("call = %+v", st.Call.Call)
	}
	waitFor(t, "Ana to hear the far end", func() bool { return hears(ana.speaker, callerTone) })
	// The call is Ana's work: its task is assigned to her (her voice
	// capacity is taken) and its conversation is hers to read.
	placed, err := e.DB.FindCall(context.Background(), st.Call.ID)
	if err != nil || placed.TaskID == "" {
		t.Fatalf("call = %+v, %v", placed, err)
	}
	task, err := e.Routing.Task(context.Background(), placed.TaskID)
	if err != nil || task.State != backend.TaskAssigned || task.WorkerID != ana.worker.ID || task.Channel != backend.ChannelVoice ||
		task.ConversationID != placed.ConversationID {
		t.Fatalf("task = %+v, %v", task, err)
	}
	e.do(t, ana.token, "GET", "/api/conversations/"+placed.ConversationID, "", nil, 200)
	if err := ana.phone.Hangup(st.Call.ID); err != nil {
		t.Fatal(err)
	}
	ana.next(t, "ended")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sipp: %v\n%s", err, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("sipp did not finish\n%s", out.String())
	}
	call := e.waitEnded(t, st.Call.ID)
	ct, err := e.DB.FindContactByID(context.Background(), call.ContactID)
	if err != nil || ct.Phone != "+15557654321" {
		t.Fatalf("contact = %+v, %v", ct, err)
	}
	// Hanging up sends the task to wrap-up, and the timeline tells the call
	// like an inbound one: dialing, answered, its length and recording.
	waitFor(t, "the task to wrap up", func() bool {
		task, err := e.Routing.Task(context.Background(), call.TaskID)
		return err == nil && task.State == backend.TaskWrapping
	})
	all, recording := e.callTimeline(t, ana.token, call)
	for _, want := range []string{"Ana Agent is calling +15557654321", "+15557654321 answered Ana Agent's call", "Call with Ana Agent ended after"} {
		if !strings.Contains(all, want) {
			t.Fatalf("timeline %q lacks %q", all, want)
		}
	}
	if !recording || call.Recording == "" || call.AnsweredAt.IsZero() {
		t.Fatalf("no recording in %q (call %+v)", all, call)
	}
}

// nextStateEvent waits for the call to reach a state and returns the event.
func (a *agent) nextStateEvent(tb testing.TB, state string) softphone.Event {
	tb.Helper()
	for {
		ev := a.next(tb, "state")
		if ev.Call.State == state {
			return ev
		}
	}
}
