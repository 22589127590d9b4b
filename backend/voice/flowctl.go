package voice

import (
	"bytes"
	"context"
	"embed"
	"os"
	"path/filepath"
	"strings"
	"time"

	"switchboard/backend"
	"switchboard/backend/voice/dsp"
)

// The default prompts (spoken with espeak-ng, 8 kHz μ-law). An admin's
// voice/prompts/<name>.wav in the data directory replaces one of the same
// name, or adds a new one.
//
//go:embed prompts/*.wav
var defaultPrompts embed.FS

// prompt loads a prompt by name ("menu" or "menu.wav"). Returns EInvalid
// for an unknown prompt.
func (e *Engine) prompt(name string) ([]int16, error) {
	name = strings.TrimSuffix(filepath.Base(name), ".wav") + ".wav"
	if pcm, err := dsp.ReadWAVFile(filepath.Join(e.dir(), "prompts", name)); err == nil {
		return pcm, nil
	}
	b, err := defaultPrompts.ReadFile("prompts/" + name)
	if err != nil {
		return nil, backend.Errorf(backend.EInvalid, "There is no prompt %q.", name)
	}
	return dsp.ReadWAV(bytes.NewReader(b))
}

// startFlow runs the call's voice flow from its incomingCall trigger. A
// call whose flow never takes it (no flow engine, or a flow without a
// voice branch) goes straight to the router.
func (c *call) startFlow() {
	c.mu.Lock()
	c.inFlow = c.e.flows != nil
	conv, rec := c.conv, c.rec
	c.mu.Unlock()
	if c.e.flows != nil {
		in := &backend.FlowInput{Kind: backend.InputCall, Params: map[string]any{"from": rec.From, "to": rec.To, "callId": rec.ID}}
		if err := c.e.flows.Deliver(context.WithoutCancel(c.e.ctx), conv, in); err != nil {
			c.e.log.Warn("voice: start flow", "call", rec.ID, "error", err)
		}
	}
	c.mu.Lock()
	untouched := c.rec.State == backend.CallRinging && !c.ended && c.player == nil
	c.mu.Unlock()
	if untouched {
		c.enqueueDirect(map[string]any{})
	}
}

// enqueueDirect makes a voice task for a call no flow handled.
func (c *call) enqueueDirect(attrs map[string]any) {
	if c.e.router == nil {
		c.hangup("no router", false)
		return
	}
	t, err := c.e.router.CreateTask(c.e.ctx, backend.TaskInput{Channel: backend.ChannelVoice, Attributes: attrs, ConversationID: c.rec.ConversationID})
	if err != nil {
		c.e.log.Error("voice: create task", "call", c.rec.ID, "error", err)
		c.hangup("no route", false)
		return
	}
	c.e.Enqueue(c.e.ctx, c.rec.ConversationID, t.ID, "")
}

// flowCall returns the live call of a conversation for a flow widget.
func (e *Engine) flowCall(convID string) (*call, error) {
	c := e.liveByConv(convID)
	if c == nil {
		return nil, backend.Errorf(backend.ENotFound, "The conversation has no live call.")
	}
	return c, nil
}

// Play plays a prompt to the caller of a conversation's live call
// (answering it first) and delivers a "played" call event when it ends.
// Returns ENotFound without a live call, EInvalid for an unknown prompt.
func (e *Engine) Play(ctx context.Context, convID, prompt string) error {
	c, err := e.flowCall(convID)
	if err != nil {
		return err
	}
	pcm, err := e.prompt(prompt)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.answerCaller(); err != nil {
		return err
	}
	if c.rec.State == backend.CallRinging {
		c.setState(backend.CallIVR, "")
	}
	c.play(pcm, false, func() { c.flowEvent(backend.CallEventPlayed, nil) })
	return nil
}

// Digits returns and forgets the keys the caller pressed so far.
func (e *Engine) Digits(convID string) string {
	c := e.liveByConv(convID)
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d := string(c.digits)
	c.digits = c.digits[:0]
	return d
}

// Record beeps and records the caller (a voicemail) until they press #,
// hang up, or maxSeconds pass; then it delivers a "recorded" call event
// with the file's name, and the voicemail joins the conversation's
// timeline as an inbox item.
func (e *Engine) Record(ctx context.Context, convID string, maxSeconds int) error {
	c, err := e.flowCall(convID)
	if err != nil {
		return err
	}
	if maxSeconds <= 0 || maxSeconds > 600 {
		maxSeconds = 120
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.answerCaller(); err != nil {
		return err
	}
	c.digits = c.digits[:0]
	c.vmDone = false
	c.play(beep(), false, func() {
		c.vm.Store(&monoRecorder{max: maxSeconds * dsp.SampleRate})
	})
	return nil
}

// finishVoicemail ends a recording in progress.
func (c *call) finishVoicemail() {
	vm := c.vm.Swap(nil)
	if vm == nil {
		return
	}
	c.mu.Lock()
	name := c.saveVoicemail(vm)
	c.mu.Unlock()
	if name != "" {
		c.flowEvent(backend.CallEventRecorded, map[string]any{"recording": name})
	}
}

// saveVoicemail writes a voicemail and adds it to the timeline; c.mu is
// held. It returns the file's name ("" on failure).
func (c *call) saveVoicemail(vm *monoRecorder) string {
	if c.vmDone {
		return ""
	}
	c.vmDone = true
	name := c.rec.ID + "-voicemail.wav"
	if err := vm.save(filepath.Join(c.e.dir(), name)); err != nil {
		c.e.log.Error("voice: save voicemail", "call", c.rec.ID, "error", err)
		return ""
	}
	c.rec.Voicemail, c.voicemail = name, name
	secs := len(vm.pcm) / dsp.SampleRate
	c.save(backend.CallNote{Text: "Voicemail (" + duration(time.Duration(secs)*time.Second) + ").",
		Attachments: []backend.Attachment{{URL: "/api/calls/" + c.rec.ID + "/voicemail", Type: "audio/wav", Name: "Voicemail"}}, Open: true})
	return name
}

// Enqueue marks a conversation's call as waiting for an agent on task
// taskID: the caller hears music (the named prompt, or the engine's music
// on hold) until an agent answers. With music "none" the caller keeps
// hearing the ring until then.
func (e *Engine) Enqueue(ctx context.Context, convID, taskID, music string) error {
	c, err := e.flowCall(convID)
	if err != nil {
		return err
	}
	pcm := e.music
	if music != "" && music != "none" {
		if pcm, err = e.prompt(music); err != nil {
			return err
		}
	}
	e.mu.Lock()
	e.byTask[taskID] = c
	e.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rec.TaskID = taskID
	c.inFlow = false // the router has it now
	if c.a.Load() != nil || c.ended {
		return nil
	}
	if music != "none" {
		if err := c.answerCaller(); err != nil {
			return err
		}
		c.play(pcm, true, nil)
	}
	if c.rec.State != backend.CallOffered {
		c.setState(backend.CallQueued, "Waiting for an agent.")
	}
	return nil
}

// Hangup ends a conversation's live call from its flow.
func (e *Engine) Hangup(ctx context.Context, convID string) error {
	c, err := e.flowCall(convID)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.inFlow = false
	c.mu.Unlock()
	go c.hangup("the flow hung up", false)
	return nil
}

// promptExists reports whether a prompt can be played (flows validate
// their prompts with it).
func (e *Engine) PromptExists(name string) bool {
	name = strings.TrimSuffix(filepath.Base(name), ".wav") + ".wav"
	if _, err := os.Stat(filepath.Join(e.dir(), "prompts", name)); err == nil {
		return true
	}
	_, err := defaultPrompts.Open("prompts/" + name)
	return err == nil
}
