package flow_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/flow"
)

// fakeCalls records what voice widgets ask of the call; keys the caller
// pressed wait in digits.
type fakeCalls struct {
	mu      sync.Mutex
	actions []string
	digits  string
}

func (f *fakeCalls) note(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, s)
}

func (f *fakeCalls) Play(_ context.Context, _, prompt string) error {
	f.note("play " + prompt)
	return nil
}
func (f *fakeCalls) Digits(string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.digits
	f.digits = ""
	return d
}
func (f *fakeCalls) Record(_ context.Context, _ string, max int) error { f.note("record"); return nil }
func (f *fakeCalls) Enqueue(_ context.Context, _, task, music string) error {
	f.note("enqueue " + task + " music=" + music)
	return nil
}
func (f *fakeCalls) Hangup(context.Context, string) error { f.note("hangup"); return nil }

func (f *fakeCalls) log() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.actions, "; ")
}

// voiceHarness runs the default voice flow for a call on a trunk.
func voiceHarness(t *testing.T) (*harness, *fakeCalls) {
	calls := &fakeCalls{}
	h := newHarness(t, nil, func(o *flow.Options) { o.Calls = calls })
	h.conv = &backend.Conversation{ID: "cv_call", ContactID: "ct_1", Channel: backend.CallChannelSIP, Instance: "main", ThreadKey: "+15551234567"}
	return h, calls
}

func (h *harness) call(event string, params map[string]any) {
	h.tb.Helper()
	in := &backend.FlowInput{Kind: backend.InputCallEvent, Params: map[string]any{"event": event}}
	for k, v := range params {
		in.Params[k] = v
	}
	if event == "" {
		in = &backend.FlowInput{Kind: backend.InputCall}
	}
	if err := h.eng.Deliver(context.Background(), h.conv, in); err != nil {
		h.tb.Fatal(err)
	}
}

func TestVoiceFlow_DefaultMenuRoutesByKey(t *testing.T) {
	for _, tc := range []struct {
		name, keys, department string
	}{{"sales", "1", "sales"}, {"support", "2", "support"}} {
		t.Run(tc.name, func(t *testing.T) {
			h, calls := voiceHarness(t)
			h.call("", nil) // the call arrives
			h.call(backend.CallEventPlayed, nil)
			calls.mu.Lock()
			calls.digits = tc.keys
			calls.mu.Unlock()
			h.call(backend.CallEventDigits, nil)
			if got := calls.log(); got != "play greeting; play menu; enqueue tk_1 music=" {
				t.Fatalf("actions = %q", got)
			}
			tasks := h.taskCalls()
			if len(tasks) != 1 || tasks[0].Channel != backend.ChannelVoice || tasks[0].Attrs["department"] != tc.department || tasks[0].Attrs["language"] != "en" {
				t.Fatalf("tasks = %+v", tasks)
			}
			if x := h.exec(); x.Status != backend.FlowAgent {
				t.Fatalf("status = %s", x.Status)
			}
		})
	}
}

func TestVoiceFlow_GatherRetriesThenVoicemail(t *testing.T) {
	h, calls := voiceHarness(t)
	h.call("", nil)
	h.call(backend.CallEventPlayed, nil) // greeting done
	for i := 0; i < 3; i++ {
		h.call(backend.CallEventPlayed, nil) // the menu prompt ended
		h.clock.Advance(5 * time.Second)     // no key within the timeout
	}
	if got := calls.log(); got != "play greeting; play menu; play menu; play menu; play voicemail" {
		t.Fatalf("actions = %q", got)
	}
	h.call(backend.CallEventPlayed, nil) // the voicemail prompt ended: record
	h.call(backend.CallEventRecorded, map[string]any{"recording": "call_1-voicemail.wav"})
	h.call(backend.CallEventPlayed, nil) // goodbye
	if got := calls.log(); !strings.HasSuffix(got, "record; play goodbye; hangup") {
		t.Fatalf("actions = %q", got)
	}
	if x := h.exec(); x.Status != backend.FlowEnded || x.Outputs["voicemail"]["RecordingUrl"] != "call_1-voicemail.wav" {
		t.Fatalf("execution = %+v", x)
	}
}

func TestVoiceFlow_WrongKeyReplaysTheMenu(t *testing.T) {
	h, calls := voiceHarness(t)
	h.call("", nil)
	h.call(backend.CallEventPlayed, nil)
	calls.mu.Lock()
	calls.digits = "9"
	calls.mu.Unlock()
	h.call(backend.CallEventDigits, nil)
	h.call(backend.CallEventPlayed, nil) // "not an option" ended
	if got := calls.log(); got != "play greeting; play menu; play invalid; play menu" {
		t.Fatalf("actions = %q", got)
	}
}

func TestVoiceFlow_HangupDuringThePromptEndsTheFlow(t *testing.T) {
	h, _ := voiceHarness(t)
	h.call("", nil)
	h.call(backend.CallEventHangup, nil)
	if x := h.exec(); x.Status != backend.FlowEnded {
		t.Fatalf("status = %s", x.Status)
	}
	if len(h.taskCalls()) != 0 {
		t.Fatal("a task was created for a caller who hung up")
	}
}

func TestVoiceFlow_WidgetsValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		w     backend.FlowWidget
		wants string
	}{
		{"say without prompt", w("s", flow.TypeSayPlay, to("audioComplete", "end"), map[string]any{}), "play must name a prompt"},
		{"gather retries", w("s", flow.TypeGather, to("keypress", "end", "timeout", "end"), map[string]any{"retries": 50}), "retries must be 0 to 10"},
		{"record too long", w("s", flow.TypeRecord, to("recordingComplete", "end"), map[string]any{"maxLength": 9000}), "maxLength"},
		{"unknown property", w("s", flow.TypeEnqueue, to("failed", "end"), map[string]any{"queue": "x"}), "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &backend.Flow{Name: "v", Widgets: []backend.FlowWidget{w("trigger", "trigger", to("incomingCall", "s"), nil), tc.w, w("end", "end", nil, nil)}}
			h, _ := voiceHarness(t)
			err := h.eng.Validate(f)
			if err == nil || !strings.Contains(err.Error(), tc.wants) {
				t.Fatalf("err = %v, want %q", err, tc.wants)
			}
		})
	}
}
