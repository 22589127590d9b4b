package voice

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"switchboard/backend"
)

// callerLeg is the customer's side of a call: a SIP dialog with its RTP, or
// a website visitor's WebRTC connection.
type callerLeg interface {
	sink
	// answer connects the caller (a SIP 200 OK); it is a no-op once done.
	answer() error
	// hangup ends the caller's side (BYE, or a refusal before the answer).
	hangup()
	// sendDigits plays DTMF to the caller (RFC 4733).
	sendDigits(digits string)
}

// agentSide is one agent's WebRTC leg on a call.
type agentSide struct {
	user     backend.User
	workerID string
	consult  bool
	// supervisor marks a supervisor's leg; mode is how they are on the
	// call (guarded by the call's mu).
	supervisor bool
	mode       string
	leg        *peerLeg
	out        *outStream
	src        int
}

// call is a live call. Media moves on the legs' goroutines through
// outStreams whose current source decides who hears whom; control
// (answer, hold, transfer, hang up) holds mu.
type call struct {
	e         *Engine
	pt        uint8 // the caller's G.711 payload type
	callerSrc int
	mixSrc    int        // the source id of mixed audio (a supervisor on the call)
	out       *outStream // to the caller
	caller    callerLeg
	dtmf      dtmfReceiver // the caller's read goroutine only

	a, b     atomic.Pointer[agentSide] // the agent, and a consulted agent
	recorder atomic.Pointer[recorder]
	vm       atomic.Pointer[monoRecorder]
	sup      atomic.Pointer[agentSide] // a supervisor on the call
	mix      atomic.Pointer[mixer]     // mixing while a supervisor is on

	mu         sync.Mutex
	rec        backend.Call
	conv       *backend.Conversation
	answered   bool
	ended      bool
	ringing    map[string]ringingOffer // by reservation id
	pending    map[string]*agentSide
	transferTo string // worker completing a warm transfer
	player     *player
	digits     []byte
	vmKey      string
	vmDone     bool
	inFlow     bool
	voicemail  string
	// placedRes is the reservation that gave an agent's outbound call its
	// task: theirs from the start (set before the call is registered).
	placedRes string
	// visitor and web identify a website caller's call and connection.
	visitor string
	web     *peerLeg
	done    chan struct{}
}

func (e *Engine) newCall(rec *backend.Call, conv *backend.Conversation, pt uint8, caller callerLeg, callerDTMF uint8) *call {
	c := &call{e: e, pt: pt, callerSrc: newSourceID(), mixSrc: newSourceID(), caller: caller, rec: *rec, conv: conv,
		ringing: map[string]ringingOffer{}, pending: map[string]*agentSide{}, done: make(chan struct{})}
	c.out = &outStream{sink: caller, audioPT: pt, dtmfPT: callerDTMF}
	return c
}

// snapshot returns a copy of the call's record.
func (c *call) snapshot() backend.Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec
}

// save stores the call's state with an optional timeline note; c.mu is held.
func (c *call) save(note backend.CallNote) {
	rec := c.rec
	if err := c.e.store.SaveCall(c.e.ctx, &rec, note); err != nil {
		c.e.log.Error("voice: save call", "call", c.rec.ID, "error", err)
		return
	}
	c.rec.UpdatedAt = rec.UpdatedAt
}

// setState moves the call to state and stores it; c.mu is held.
func (c *call) setState(state string, note string) {
	c.rec.State = state
	c.save(backend.CallNote{Text: note})
	if n, ok := c.caller.(stateNotifier); ok {
		n.notify(state, c.rec.UserName)
	}
	for _, s := range []*agentSide{c.a.Load(), c.b.Load(), c.sup.Load()} {
		if s != nil {
			c.e.send(s.user.ID, stateFrame{Type: "voice.state", Call: c.rec, Monitor: s.mode})
		}
	}
}

// fromCaller handles one packet from the caller.
func (c *call) fromCaller(p *rtp.Packet, dtmfPT uint8) {
	if dtmfPT != 0 && p.PayloadType == dtmfPT {
		if d, ok := c.dtmf.feed(p); ok {
			c.onDigit(d)
		}
		return
	}
	if r := c.recorder.Load(); r != nil {
		r.add(0, p)
	}
	if m := c.mix.Load(); m != nil {
		m.add(inCaller, p)
	}
	if vm := c.vm.Load(); vm != nil && vm.add(p) {
		go c.finishVoicemail()
	}
	if a := c.a.Load(); a != nil {
		a.out.write(c.callerSrc, p, 0)
	}
	if b := c.b.Load(); b != nil {
		b.out.write(c.callerSrc, p, 0)
	}
}

// fromAgent handles one packet from an agent's softphone.
func (c *call) fromAgent(s *agentSide, p *rtp.Packet, dtmfPT uint8) {
	if m := c.mix.Load(); m != nil {
		switch {
		case m.sup == s:
			m.add(inSupervisor, p)
		case c.a.Load() == s:
			m.add(inAgent, p)
		}
	}
	if s.supervisor {
		return // a supervisor is heard only through the mixer
	}
	c.out.write(s.src, p, dtmfPT)
	if r := c.recorder.Load(); r != nil && c.out.source() == s.src && (dtmfPT == 0 || p.PayloadType != dtmfPT) {
		r.add(1, p)
	}
	for _, o := range []*agentSide{c.a.Load(), c.b.Load()} {
		if o != nil && o != s {
			o.out.write(s.src, p, 0)
		}
	}
}

// onDigit handles a key the caller pressed.
func (c *call) onDigit(d byte) {
	c.mu.Lock()
	c.digits = append(c.digits, d)
	if len(c.digits) > 64 {
		c.digits = c.digits[len(c.digits)-64:]
	}
	a, inFlow, vm := c.a.Load(), c.inFlow, c.vm.Load() != nil && d == '#'
	c.mu.Unlock()
	if a != nil {
		c.e.send(a.user.ID, digitsFrame{Type: "voice.dtmf", CallID: c.rec.ID, Digits: string(d)})
	}
	if vm {
		go c.finishVoicemail()
	} else if inFlow {
		go c.flowEvent(backend.CallEventDigits, nil)
	}
}

// play stops what the caller hears and plays pcm to them (looping or
// not); done runs, in its own goroutine, when a non-looping prompt ends.
// c.mu is held.
func (c *call) play(pcm []int16, loop bool, done func()) {
	c.stopPlayer()
	var fin func()
	if done != nil {
		fin = func() { go done() }
	}
	c.player = play(c.out, pcm, loop, fin)
}

func (c *call) stopPlayer() {
	if c.player != nil {
		c.player.halt()
		c.player = nil
	}
}

// answerCaller connects the caller's leg if it is still ringing; c.mu is
// held.
func (c *call) answerCaller() error {
	if c.answered {
		return nil
	}
	if err := c.caller.answer(); err != nil {
		return err
	}
	c.answered = true
	return nil
}

// bridge connects the caller with agent s; c.mu is held.
func (c *call) bridge(s *agentSide) {
	c.stopPlayer()
	if err := c.answerCaller(); err != nil {
		c.e.log.Warn("voice: answer caller", "call", c.rec.ID, "error", err)
	}
	c.out.setSource(s.src)
	s.out.setSource(c.callerSrc)
	c.remix()
	if c.recorder.Load() == nil {
		path := filepath.Join(c.e.dir(), c.rec.ID+".wav")
		if r, err := newRecorder(path, c.e.opts.Now); err != nil {
			c.e.log.Error("voice: start recording", "call", c.rec.ID, "error", err)
		} else {
			c.recorder.Store(r)
			c.rec.Recording = filepath.Base(path)
		}
	}
}

// hangup ends the call; byCaller is true when the caller hung up (or the
// engine stops), so no BYE is sent back.
func (c *call) hangup(reason string, byCaller bool) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	close(c.done)
	c.stopPlayer()
	if !byCaller {
		c.caller.hangup()
	}
	if vm := c.vm.Swap(nil); vm != nil {
		c.saveVoicemail(vm)
	}
	var attachments []backend.Attachment
	if r := c.recorder.Swap(nil); r != nil {
		if err := r.close(); err != nil {
			c.e.log.Error("voice: close recording", "call", c.rec.ID, "error", err)
			c.rec.Recording = ""
		} else {
			attachments = append(attachments, recordingAttachment(c.rec.ID, "Call recording"))
		}
	}
	if m := c.mix.Swap(nil); m != nil {
		m.halt()
	}
	users := map[string]bool{}
	for _, s := range []*agentSide{c.a.Swap(nil), c.b.Swap(nil), c.sup.Swap(nil)} {
		if s != nil {
			s.leg.close()
			users[s.user.ID] = true
		}
	}
	for _, s := range c.pending {
		if s.leg != nil {
			s.leg.close()
		}
		users[s.user.ID] = true
	}
	for _, r := range c.ringing {
		users[r.user] = true
	}
	now := c.e.opts.Now().UTC()
	c.rec.State, c.rec.EndedAt, c.rec.EndReason = backend.CallEnded, now, reason
	note := backend.CallNote{Attachments: attachments}
	switch {
	case !c.rec.AnsweredAt.IsZero():
		note.Text = fmt.Sprintf("Call with %s ended after %s.", c.rec.UserName, duration(now.Sub(c.rec.AnsweredAt)))
	case c.voicemail != "":
		note.Text, note.Open = "Missed call: the caller left a voicemail.", true
	default:
		note.Text, note.Open = "Missed call.", true
	}
	c.save(note)
	taskID, inFlow := c.rec.TaskID, c.inFlow
	answered := !c.rec.AnsweredAt.IsZero()
	c.mu.Unlock()
	for u := range users {
		c.e.send(u, endedFrame{Type: "voice.ended", CallID: c.rec.ID, Reason: reason})
	}
	c.e.unregister(c)
	if taskID != "" {
		c.e.endTask(taskID, answered, "caller hung up")
	}
	if inFlow {
		c.flowEvent(backend.CallEventHangup, nil)
	}
}

// endTask ends the voice task of a call that ended: an answered call's, or
// one an agent holds although their audio never connected, goes to
// wrap-up; one still waiting or ringing is canceled for reason.
func (e *Engine) endTask(taskID string, answered bool, reason string) {
	if e.router == nil {
		return
	}
	if !answered {
		_, err := e.router.CancelTask(e.ctx, taskID, reason)
		if backend.ErrorCode(err) != backend.EConflict { // EConflict: an agent holds it
			if err != nil && backend.ErrorCode(err) != backend.ENotFound {
				e.log.Warn("voice: cancel task", "task", taskID, "error", err)
			}
			return
		}
	}
	if _, err := e.router.WrapUp(e.ctx, taskID, ""); err != nil && backend.ErrorCode(err) != backend.ENotFound {
		e.log.Warn("voice: wrap up", "task", taskID, "error", err)
	}
}

// recordingAttachment links a call's recording for the timeline.
func recordingAttachment(callID, name string) backend.Attachment {
	return backend.Attachment{URL: "/api/calls/" + callID + "/recording", Type: "audio/wav", Name: name}
}

func duration(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// flowEvent hands a call event to the call's flow.
func (c *call) flowEvent(event string, params map[string]any) {
	if c.e.flows == nil {
		return
	}
	p := map[string]any{"event": event}
	for k, v := range params {
		p[k] = v
	}
	c.mu.Lock()
	conv := c.conv
	c.mu.Unlock()
	if err := c.e.flows.Deliver(context.WithoutCancel(c.e.ctx), conv, &backend.FlowInput{Kind: backend.InputCallEvent, Params: p}); err != nil {
		c.e.log.Warn("voice: flow event", "call", c.rec.ID, "event", event, "error", err)
	}
}
