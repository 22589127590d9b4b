package voice

import (
	"context"

	"switchboard/backend"
)

// Monitor puts supervisor u on a live call, or changes how they are on it:
// listen, whisper or barge (backend.Monitor*). Their softphone gets a
// voice.offer like an agent's leg; once its audio connects they hear the
// caller and the agent mixed, and a voice.monitor frame tells them the
// mode. Only supervisors and admins may; one supervisor at a time per
// call. Returns EInvalid for an unknown mode, EForbidden for an agent,
// ENotFound for a call that is not live and EConflict for a call nobody
// answered yet, the supervisor's own call or one another supervisor is on.
func (e *Engine) Monitor(ctx context.Context, u backend.User, callID, mode string) error {
	if !backend.ValidMonitorMode(mode) {
		return backend.Errorf(backend.EInvalid, "Join a call to listen, whisper or barge in, not %q.", mode)
	}
	if !u.Role.AtLeast(backend.RoleSupervisor) {
		return backend.Errorf(backend.EForbidden, "Only supervisors join other agents' calls.")
	}
	c := e.live(callID)
	if c == nil {
		return backend.Errorf(backend.ENotFound, "Call %s is not live.", callID)
	}
	return c.monitor(u, mode)
}

// Leave takes supervisor u off a call they joined with Monitor; the agent
// and the caller hear each other alone again. Returns ENotFound when u is
// not on the call.
func (e *Engine) Leave(ctx context.Context, u backend.User, callID string) error {
	c := e.live(callID)
	if c == nil {
		return backend.Errorf(backend.ENotFound, "Call %s is not live.", callID)
	}
	if !c.leave(u, "left") {
		return backend.Errorf(backend.ENotFound, "You are not on call %s.", callID)
	}
	return nil
}

// monitor joins u to the call or switches their mode.
func (c *call) monitor(u backend.User, mode string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return backend.Errorf(backend.ENotFound, "Call %s is not live.", c.rec.ID)
	}
	if c.isAgent(u) {
		return backend.Errorf(backend.EConflict, "You are an agent on this call.")
	}
	if s := c.sup.Load(); s != nil {
		if s.user.ID != u.ID {
			return backend.Errorf(backend.EConflict, "%s is already on this call.", s.user.Name)
		}
		s.mode = mode
		if m := c.mix.Load(); m != nil {
			m.mode.Store(mixMode(mode))
		}
		c.remix()
		c.e.send(u.ID, stateFrame{Type: "voice.monitor", Call: c.rec, Monitor: mode})
		return nil
	}
	for _, s := range c.pending {
		if !s.supervisor {
			continue
		}
		if s.user.ID != u.ID {
			return backend.Errorf(backend.EConflict, "%s is already joining this call.", s.user.Name)
		}
		s.mode = mode // joins in the new mode once connected
		return nil
	}
	if c.a.Load() == nil || c.rec.AnsweredAt.IsZero() {
		return backend.Errorf(backend.EConflict, "Nobody has answered this call yet; join it once an agent is on it.")
	}
	s := &agentSide{user: u, supervisor: true, mode: mode}
	c.pending[u.ID] = s // with no leg until connect offers one
	go c.connect(s)
	return nil
}

// joinMonitor starts mixing for a supervisor whose leg connected; c.mu is
// held.
func (c *call) joinMonitor(s *agentSide) {
	if c.sup.Load() != nil {
		s.leg.close()
		return
	}
	s.out.setSource(c.mixSrc)
	c.sup.Store(s)
	c.mix.Store(newMixer(c, s, s.mode))
	c.remix()
	c.e.send(s.user.ID, stateFrame{Type: "voice.monitor", Call: c.rec, Monitor: s.mode})
}

// remix points the bridged legs' streams at the mixer or at each other, for
// the supervisor's mode: the agent hears the mix in whisper and barge, the
// caller in barge; otherwise the relay passes audio through. Streams that
// are elsewhere (hold music, a consult) are left alone. c.mu is held.
func (c *call) remix() {
	a := c.a.Load()
	if a == nil || a.out == nil {
		return
	}
	toAgent, toCaller := c.callerSrc, a.src
	if m := c.mix.Load(); m != nil {
		switch m.mode.Load() {
		case mixBarge:
			toAgent, toCaller = c.mixSrc, c.mixSrc
		case mixWhisper:
			toAgent = c.mixSrc
		}
	}
	if src := a.out.source(); src == c.callerSrc || src == c.mixSrc {
		a.out.setSource(toAgent)
	}
	if src := c.out.source(); src == a.src || src == c.mixSrc {
		c.out.setSource(toCaller)
	}
}

// leave takes u off the call (their leg, or the offer waiting for them) and
// reports whether they were on it.
func (c *call) leave(u backend.User, reason string) bool {
	c.mu.Lock()
	if s := c.pending[u.ID]; s != nil && s.supervisor {
		delete(c.pending, u.ID)
		c.mu.Unlock()
		if s.leg != nil {
			s.leg.close()
		}
		c.e.send(u.ID, endedFrame{Type: "voice.ended", CallID: c.rec.ID, Reason: reason})
		return true
	}
	s := c.sup.Load()
	if s == nil || s.user.ID != u.ID || c.ended {
		c.mu.Unlock()
		return false
	}
	c.sup.Store(nil)
	m := c.mix.Swap(nil)
	c.remix()
	c.mu.Unlock()
	if m != nil {
		m.halt()
	}
	s.leg.close()
	c.e.send(u.ID, endedFrame{Type: "voice.ended", CallID: c.rec.ID, Reason: reason})
	return true
}
