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
)

// An agent dials a number: the engine calls out through the trunk's proxy
// (sipp as the carrier, which demands digest authentication), the agent
// hears the far end, hangs up, and the call joins the number's timeline.
// The engine also pings the proxy with OPTIONS once the trunk is saved: sipp
// ends after two calls, that keep-alive and the agent's.
func TestSoftphone_DialOutThroughTrunk(t *testing.T) {
	e := MustStartEngine(t)
	dir := t.TempDir()
	writeULawTone(t, filepath.Join(dir, "tone.wav"), callerTone, 60)
	port := freePort(t)
	done, out := startSipp(t, dir, "callee.xml", map[string]string{"{{TONE}}": "tone.wav"},
		"-m", "2", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(freePort(t)), "-timeout", "60s")
	e.do(t, e.admin, "PUT", "/api/voice/trunks/main", fmt.Sprintf(
		`{"config":{"allow":["127.0.0.1"],"proxy":"127.0.0.1:%d","username":"acme","password":"s3cret","callerId":"+15550100"}}`, port), nil, 200)
	ana := e.MustAgent(t, "ana@example.com", anaTone)
	waitBound(t, port)
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
