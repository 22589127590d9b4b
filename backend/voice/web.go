package voice

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"

	"github.com/pion/rtp"

	"switchboard/backend"
	"switchboard/backend/voice/dsp"
)

// webFrame is a call frame between the website widget and the engine:
// call.start, call.answer (with the browser's SDP) and call.hangup from
// the visitor; call.offer, call.state, call.ended and call.error to them.
type webFrame struct {
	Type   string `json:"type"`
	CallID string `json:"callId,omitempty"`
	SDP    string `json:"sdp,omitempty"`
	State  string `json:"state,omitempty"`
	Agent  string `json:"agent,omitempty"`
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
}

func (f webFrame) bytes() []byte {
	b, _ := json.Marshal(f)
	return b
}

// webLeg is a website visitor's side of a call: their browser's
// RTCPeerConnection, signaled over the widget's socket.
type webLeg struct {
	peer   *peerLeg
	callID string
	send   func([]byte)
	once   sync.Once
}

func (l *webLeg) writeRTP(p *rtp.Packet) error { return l.peer.writeRTP(p) }
func (l *webLeg) answer() error                { return nil }
func (l *webLeg) sendDigits(string)            {}

func (l *webLeg) hangup() {
	l.once.Do(func() {
		l.send(webFrame{Type: "call.ended", CallID: l.callID, Reason: "The call has ended."}.bytes())
		l.peer.close()
	})
}

// notify tells the visitor how the call is going.
func (l *webLeg) notify(state, agent string) {
	l.send(webFrame{Type: "call.state", CallID: l.callID, State: state, Agent: agent}.bytes())
}

// stateNotifier is a caller leg that shows the call's state to the caller.
type stateNotifier interface {
	notify(state, agent string)
}

// VisitorFrame handles a website visitor's call frame from the chat
// widget's socket. A visitor acts only on their own call: the one started
// from their thread (instance and subject).
func (e *Engine) VisitorFrame(ctx context.Context, instance, subject, name string, raw []byte, send func([]byte), gone <-chan struct{}) {
	var f webFrame
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		send(webFrame{Type: "call.error", Error: "The call message is not valid."}.bytes())
		return
	}
	visitor := instance + "\x00" + subject
	var err error
	switch f.Type {
	case "call.start":
		err = e.startWebCall(ctx, instance, subject, name, visitor, send, gone)
	case "call.answer", "call.hangup":
		c := e.live(f.CallID)
		if c == nil || c.visitor != visitor {
			err = backend.Errorf(backend.ENotFound, "That call is not going on.")
		} else if f.Type == "call.hangup" {
			go c.hangup("the caller hung up", true)
		} else {
			err = c.webAnswer(f.SDP)
		}
	default:
		err = backend.Errorf(backend.EInvalid, "Unknown call message.")
	}
	if err != nil {
		send(webFrame{Type: "call.error", CallID: f.CallID, Error: backend.ErrorMessage(err)}.bytes())
	}
}

// startWebCall opens a call in the visitor's web chat conversation and
// offers their browser a WebRTC connection.
func (e *Engine) startWebCall(ctx context.Context, instance, subject, name, visitor string, send func([]byte), gone <-chan struct{}) error {
	e.mu.Lock()
	for _, c := range e.calls {
		if c.visitor == visitor {
			e.mu.Unlock()
			return backend.Errorf(backend.EConflict, "You are already on a call.")
		}
	}
	e.mu.Unlock()
	if name == "" {
		name = "Website visitor"
	}
	rec := &backend.Call{Channel: backend.CallChannelWeb, Instance: instance, Direction: backend.CallInbound,
		From: name, To: instance, State: backend.CallRinging}
	if err := e.store.OpenCall(e.ctx, rec, backend.Identity{ExternalID: subject, DisplayName: name}, subject,
		backend.CallNote{Text: "Web call from " + name + "."}); err != nil {
		return err
	}
	conv, err := e.store.FindConversationByID(e.ctx, rec.ConversationID)
	if err != nil {
		return err
	}
	var c *call
	var ready sync.WaitGroup
	ready.Add(1)
	peer, offer, err := e.newPeer(ctx, dsp.PayloadPCMU,
		func(p *rtp.Packet, dt uint8) { ready.Wait(); c.fromCaller(p, dt) },
		func() { ready.Wait(); c.hangup("the caller left", true) })
	if err != nil {
		ready.Done()
		return err
	}
	leg := &webLeg{peer: peer, callID: rec.ID, send: send}
	c = e.newCall(rec, conv, dsp.PayloadPCMU, leg, 0)
	c.visitor, c.web = visitor, peer
	ready.Done()
	e.register(c)
	go func() {
		select {
		case <-gone:
			c.hangup("the caller left", true)
		case <-c.done:
		}
	}()
	send(webFrame{Type: "call.offer", CallID: rec.ID, SDP: offer}.bytes())
	return nil
}

// webAnswer applies the browser's answer; once connected the call goes to
// the router like a phone call with no menu.
func (c *call) webAnswer(sdp string) error {
	if c.web == nil {
		return backend.Errorf(backend.EConflict, "The call is not waiting for an answer.")
	}
	if err := c.web.setAnswer(sdp); err != nil {
		return err
	}
	go func() {
		if err := c.web.waitConnected(c.e.opts.ConnectTimeout); err != nil {
			c.hangup("the caller's audio could not connect", false)
			return
		}
		c.mu.Lock()
		c.answered = true
		c.mu.Unlock()
		c.enqueueDirect(map[string]any{"source": "web"})
	}()
	return nil
}
