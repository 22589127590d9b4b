package voice

import (
	"context"
	"encoding/json"
	"time"

	"github.com/pion/rtp"

	"switchboard/backend"
)

// onReservation follows the router's offers of voice tasks: an offer rings
// the agent, an accepted one connects them, a withdrawn one stops the ring.
func (e *Engine) onReservation(r *backend.Reservation) {
	c := e.callForTask(r.TaskID)
	if c == nil || r.ID == c.placedRes { // an outbound call's agent is connected by placeCall
		return
	}
	switch r.State {
	case backend.ReservationPending:
		c.mu.Lock()
		transfer := c.transferTo == r.WorkerID
		c.mu.Unlock()
		if transfer {
			go func() {
				if _, err := e.router.AcceptReservation(e.ctx, r.ID); err != nil {
					e.log.Warn("voice: accept transfer", "call", c.rec.ID, "error", err)
				}
			}()
			return
		}
		w, err := e.router.Worker(e.ctx, r.WorkerID)
		if err != nil || w.UserID == "" {
			return
		}
		c.ring(r, w)
	case backend.ReservationAccepted:
		c.mu.Lock()
		user := c.ringing[r.ID].user
		delete(c.ringing, r.ID)
		b := c.b.Load()
		ended := c.ended
		c.mu.Unlock()
		if ended {
			return
		}
		if b != nil && b.workerID == r.WorkerID {
			go c.promote(b)
			return
		}
		w, err := e.router.Worker(e.ctx, r.WorkerID)
		if err != nil {
			return
		}
		if user == "" {
			user = w.UserID
		}
		go c.connect(&agentSide{user: backend.User{ID: user, Name: w.Name}, workerID: w.ID})
	default:
		c.mu.Lock()
		user := c.ringing[r.ID].user
		delete(c.ringing, r.ID)
		if user != "" && c.a.Load() == nil && !c.ended {
			c.rec.State = backend.CallQueued
		}
		c.mu.Unlock()
		if user != "" {
			e.send(user, endedFrame{Type: "voice.cancel", CallID: c.rec.ID, Reason: r.State})
		}
	}
}

// ringingOffer is an offer ringing one agent: who, and the frame that rang them
// (nil until it is sent), which a connection of theirs that opens later
// gets too (Engine.Ringing).
type ringingOffer struct {
	user  string
	frame *incomingFrame
}

// ring tells an agent's softphone about an offered call.
func (c *call) ring(r *backend.Reservation, w *backend.Worker) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ringing[r.ID] = ringingOffer{user: w.UserID}
	c.rec.State = backend.CallOffered
	rec := c.rec
	c.mu.Unlock()
	f := incomingFrame{Type: "voice.incoming", Call: rec, ReservationID: r.ID, ExpiresAt: r.ExpiresAt, QueueID: r.QueueID}
	if ct, err := c.e.store.FindContactByID(c.e.ctx, rec.ContactID); err == nil {
		f.ContactName = ct.Name
	}
	f.QueueName = c.e.queueName(r.QueueID)
	c.mu.Lock()
	if rg, ok := c.ringing[r.ID]; ok && rg.user == w.UserID {
		rg.frame = &f
		c.ringing[r.ID] = rg
	}
	c.mu.Unlock()
	c.e.send(w.UserID, f)
}

// Ringing implements api.Voice: the voice.incoming frames of the calls
// now ringing userID, as ring sent them.
func (e *Engine) Ringing(userID string) [][]byte {
	e.mu.Lock()
	calls := make([]*call, 0, len(e.calls))
	for _, c := range e.calls {
		calls = append(calls, c)
	}
	e.mu.Unlock()
	var out [][]byte
	for _, c := range calls {
		c.mu.Lock()
		for _, r := range c.ringing {
			if r.user == userID && r.frame != nil && !c.ended {
				if b, err := json.Marshal(r.frame); err == nil {
					out = append(out, b)
				}
			}
		}
		c.mu.Unlock()
	}
	return out
}

// queueName returns a queue's name ("" when unknown).
func (e *Engine) queueName(id string) string {
	if id == "" {
		return ""
	}
	queues, err := e.router.Queues(e.ctx)
	if err != nil {
		return ""
	}
	for _, q := range queues {
		if q.ID == id {
			return q.Name
		}
	}
	return ""
}

// connect offers a WebRTC leg to an agent who answered. Their softphone
// answers with voice.sdp; once media flows the agent is bridged (or, for a
// consult, joined with the first agent).
func (c *call) connect(s *agentSide) {
	ctx, cancel := context.WithTimeout(c.e.ctx, c.e.opts.ConnectTimeout)
	defer cancel()
	leg, offer, err := c.e.newPeer(ctx, c.pt, func(p *rtp.Packet, dt uint8) { c.fromAgent(s, p, dt) }, func() { c.agentGone(s) })
	if err != nil {
		c.mu.Lock()
		if c.pending[s.user.ID] == s {
			delete(c.pending, s.user.ID)
		}
		c.mu.Unlock()
		c.e.log.Error("voice: agent leg", "call", c.rec.ID, "error", err)
		c.e.send(s.user.ID, errorFrame{Type: "voice.error", CallID: c.rec.ID, Error: "The call's audio could not be set up."})
		return
	}
	c.mu.Lock()
	s.leg, s.src = leg, newSourceID()
	s.out = &outStream{sink: leg, audioPT: c.pt}
	if s.supervisor && c.pending[s.user.ID] != s { // the supervisor left meanwhile
		c.mu.Unlock()
		leg.close()
		return
	}
	if c.ended {
		c.mu.Unlock()
		leg.close()
		c.e.send(s.user.ID, endedFrame{Type: "voice.ended", CallID: c.rec.ID, Reason: "caller hung up"})
		return
	}
	c.pending[s.user.ID] = s
	f := offerFrame{Type: "voice.offer", CallID: c.rec.ID, SDP: offer, Consult: s.consult, Monitor: s.mode}
	c.mu.Unlock()
	c.e.send(s.user.ID, f)
}

// onAnswer applies an agent's SDP answer and bridges them once connected.
func (c *call) onAnswer(u backend.User, sdp string) error {
	c.mu.Lock()
	s := c.pending[u.ID]
	if s == nil || s.leg == nil { // nothing offered yet
		c.mu.Unlock()
		return backend.Errorf(backend.EConflict, "There is no audio offer waiting for you on this call.")
	}
	delete(c.pending, u.ID)
	c.mu.Unlock()
	if err := s.leg.setAnswer(sdp); err != nil {
		s.leg.close()
		return err
	}
	go func() {
		if err := s.leg.waitConnected(c.e.opts.ConnectTimeout); err != nil {
			c.e.send(u.ID, errorFrame{Type: "voice.error", CallID: c.rec.ID, Error: backend.ErrorMessage(err)})
			s.leg.close()
			return
		}
		c.joined(s)
	}()
	return nil
}

// joined puts a connected agent on the call.
func (c *call) joined(s *agentSide) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		s.leg.close()
		return
	}
	if s.supervisor {
		c.joinMonitor(s)
		return
	}
	if s.consult {
		a := c.a.Load()
		if a == nil {
			s.leg.close()
			return
		}
		c.b.Store(s)
		a.out.setSource(s.src)
		s.out.setSource(a.src)
		c.setState(backend.CallConsulting, a.user.Name+" is consulting "+s.user.Name+".")
		return
	}
	c.a.Store(s)
	c.bridge(s)
	c.rec.UserID, c.rec.UserName = s.user.ID, s.user.Name
	if c.rec.AnsweredAt.IsZero() {
		c.rec.AnsweredAt = c.e.opts.Now().UTC()
	}
	note := "Answered by " + s.user.Name + "."
	if c.rec.Direction == backend.CallOutbound {
		note = c.rec.To + " answered " + s.user.Name + "'s call."
	}
	c.setState(backend.CallConnected, note)
}

// agentGone handles an agent's connection failing or closing.
func (c *call) agentGone(s *agentSide) {
	c.mu.Lock()
	switch {
	case c.ended:
		c.mu.Unlock()
	case s.supervisor:
		c.mu.Unlock()
		c.leave(s.user, "connection lost")
	case c.b.Load() == s:
		c.b.Store(nil)
		if a := c.a.Load(); a != nil {
			c.bridge(a)
			c.setState(backend.CallConnected, "")
		}
		c.mu.Unlock()
	case c.a.Load() == s && c.b.Load() == nil:
		c.mu.Unlock()
		c.hangup("agent disconnected", false)
	default:
		c.mu.Unlock()
	}
}

// setHold puts the caller on hold with music, or back with the agent.
func (c *call) setHold(u backend.User, hold bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.a.Load()
	if a == nil || c.b.Load() != nil {
		return backend.Errorf(backend.EConflict, "The call cannot be held now.")
	}
	if hold {
		a.out.setSource(0)
		c.play(c.e.music, true, nil)
		c.setState(backend.CallHeld, "")
	} else {
		c.bridge(a)
		c.setState(backend.CallConnected, "")
	}
	return nil
}

// consult holds the caller and rings another agent for a warm transfer.
func (c *call) consult(from backend.User, to *backend.Worker) error {
	c.mu.Lock()
	a := c.a.Load()
	if a == nil || c.b.Load() != nil || len(c.pending) > 0 {
		c.mu.Unlock()
		return backend.Errorf(backend.EConflict, "The call cannot consult anyone now.")
	}
	if to.UserID == "" || to.UserID == from.ID {
		c.mu.Unlock()
		return backend.Errorf(backend.EInvalid, "Consult another agent who signs in.")
	}
	a.out.setSource(0)
	c.play(c.e.music, true, nil)
	c.rec.State = backend.CallHeld
	s := &agentSide{user: backend.User{ID: to.UserID, Name: to.Name}, workerID: to.ID, consult: true}
	c.pending[to.UserID] = s // until they answer, with no leg yet
	rec := c.rec
	c.mu.Unlock()
	c.e.send(to.UserID, incomingFrame{Type: "voice.incoming", Call: rec, Consult: true, From: from.Name, ExpiresAt: c.e.opts.Now().Add(30 * time.Second)})
	return nil
}

// answerConsult connects a consulted agent who answered.
func (c *call) answerConsult(u backend.User) error {
	c.mu.Lock()
	s := c.pending[u.ID]
	if s == nil || !s.consult || s.leg != nil {
		c.mu.Unlock()
		return backend.Errorf(backend.EConflict, "No consult is waiting for you on this call.")
	}
	delete(c.pending, u.ID)
	c.mu.Unlock()
	go c.connect(s)
	return nil
}

// completeTransfer hands the caller to the consulted agent: the router
// moves the task to them, and the engine accepts it for them.
func (c *call) completeTransfer(u backend.User) error {
	c.mu.Lock()
	b := c.b.Load()
	if b == nil {
		c.mu.Unlock()
		return backend.Errorf(backend.EConflict, "Consult an agent before completing a warm transfer.")
	}
	c.transferTo = b.workerID
	taskID := c.rec.TaskID
	c.mu.Unlock()
	if _, err := c.e.router.TransferTask(c.e.ctx, taskID, backend.TransferTarget{WorkerID: b.workerID}); err != nil {
		c.mu.Lock()
		c.transferTo = ""
		c.mu.Unlock()
		return err
	}
	return nil
}

// promote makes the consulted agent the call's agent once the router gave
// them the task, and lets the first agent go.
func (c *call) promote(b *agentSide) {
	c.mu.Lock()
	if c.ended || c.b.Load() != b {
		c.mu.Unlock()
		return
	}
	old := c.a.Load()
	c.b.Store(nil)
	c.a.Store(b)
	c.transferTo = ""
	c.bridge(b)
	c.rec.UserID, c.rec.UserName = b.user.ID, b.user.Name
	c.setState(backend.CallConnected, "Transferred from "+old.user.Name+" to "+b.user.Name+".")
	c.mu.Unlock()
	if old != nil {
		old.leg.close()
		c.e.send(old.user.ID, endedFrame{Type: "voice.ended", CallID: c.rec.ID, Reason: "transferred"})
	}
}

// cancelConsult drops the consulted agent and returns to the caller.
func (c *call) cancelConsult(u backend.User) error {
	c.mu.Lock()
	b := c.b.Swap(nil)
	for id, s := range c.pending {
		if s.consult {
			delete(c.pending, id)
			c.e.send(id, endedFrame{Type: "voice.cancel", CallID: c.rec.ID, Reason: "consult canceled"})
		}
	}
	if a := c.a.Load(); a != nil {
		c.bridge(a)
		c.setState(backend.CallConnected, "")
	}
	c.mu.Unlock()
	if b != nil {
		b.leg.close()
		c.e.send(b.user.ID, endedFrame{Type: "voice.ended", CallID: c.rec.ID, Reason: "consult ended"})
	}
	return nil
}

// blindTransfer moves the task to another worker or a queue; the caller
// hears music until the next agent answers.
func (c *call) blindTransfer(u backend.User, to backend.TransferTarget) error {
	c.mu.Lock()
	a := c.a.Load()
	if a == nil || c.b.Load() != nil {
		c.mu.Unlock()
		return backend.Errorf(backend.EConflict, "The call cannot be transferred now.")
	}
	taskID := c.rec.TaskID
	c.mu.Unlock()
	if _, err := c.e.router.TransferTask(c.e.ctx, taskID, to); err != nil {
		return err
	}
	c.mu.Lock()
	if c.a.CompareAndSwap(a, nil) {
		c.play(c.e.music, true, nil)
		c.setState(backend.CallQueued, a.user.Name+" transferred the call.")
	}
	c.mu.Unlock()
	a.leg.close()
	c.e.send(a.user.ID, endedFrame{Type: "voice.ended", CallID: c.rec.ID, Reason: "transferred"})
	return nil
}

// sendDigits plays an agent's keys to the caller.
func (c *call) sendDigits(digits string) error {
	for i := 0; i < len(digits); i++ {
		if _, ok := dtmfEvent(digits[i]); !ok {
			return backend.Errorf(backend.EInvalid, "Only 0-9, *, # and A-D can be sent as tones.")
		}
	}
	c.caller.sendDigits(digits)
	return nil
}
