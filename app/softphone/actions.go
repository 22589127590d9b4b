package softphone

import (
	"fmt"
	"strings"

	"switchboard/backend"
)

// frame is what the phone sends.
type frame = backend.VoiceFrame

// Answer answers a ringing call (or a colleague's consult).
func (p *Phone) Answer(id string) error {
	c, err := p.Call(id)
	if err != nil {
		return err
	}
	info := c.Info()
	if !info.Ringing {
		return backend.Errorf(backend.EConflict, "Call %s is not ringing.", id)
	}
	c.mu.Lock()
	c.info.Ringing = false
	c.mu.Unlock()
	return p.send(frame{Type: "voice.answer", CallID: id, ReservationID: info.ReservationID})
}

// Decline declines a ringing call.
func (p *Phone) Decline(id string) error {
	c, err := p.Call(id)
	if err != nil {
		return err
	}
	info := c.Info()
	if info.Consult {
		return p.send(frame{Type: "voice.hangup", CallID: id})
	}
	return p.send(frame{Type: "voice.decline", CallID: id, ReservationID: info.ReservationID})
}

// Hangup ends a call.
func (p *Phone) Hangup(id string) error { return p.simple(id, frame{Type: "voice.hangup", CallID: id}) }

// Hold holds or resumes a call; the caller hears music meanwhile.
func (p *Phone) Hold(id string, hold bool) error {
	return p.simple(id, frame{Type: "voice.hold", CallID: id, Hold: hold})
}

// SendDTMF sends keys to the caller.
func (p *Phone) SendDTMF(id, digits string) error {
	return p.simple(id, frame{Type: "voice.dtmf", CallID: id, Digits: digits})
}

// Consult holds the caller and rings a colleague's worker (warm transfer).
func (p *Phone) Consult(id, workerID string) error {
	return p.simple(id, frame{Type: "voice.consult", CallID: id, WorkerID: workerID})
}

// CompleteTransfer hands the caller to the consulted colleague.
func (p *Phone) CompleteTransfer(id string) error {
	return p.simple(id, frame{Type: "voice.complete", CallID: id})
}

// ReturnToCaller ends a consult and returns to the caller.
func (p *Phone) ReturnToCaller(id string) error {
	return p.simple(id, frame{Type: "voice.return", CallID: id})
}

// Transfer hands the call to a colleague's worker or a queue, blind.
func (p *Phone) Transfer(id, workerID, queueID string) error {
	if (workerID == "") == (queueID == "") {
		return backend.Errorf(backend.EInvalid, "Transfer to a colleague or to a queue.")
	}
	return p.simple(id, frame{Type: "voice.transfer", CallID: id, WorkerID: workerID, QueueID: queueID})
}

// Dial calls a phone number through the engine's trunk; the call shows up
// (state, then audio) once the far end answers.
func (p *Phone) Dial(number string) error {
	if strings.TrimSpace(number) == "" {
		return backend.Errorf(backend.EInvalid, "Enter a number to call.")
	}
	return p.send(frame{Type: "voice.dial", Number: number})
}

// Mute stops (or resumes) sending the microphone; silence goes instead.
func (p *Phone) Mute(id string, mute bool) error {
	c, err := p.Call(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.info.Muted = mute
	c.mu.Unlock()
	p.opts.OnEvent(Event{Type: "state", Call: c.Info()})
	return nil
}

func (p *Phone) simple(id string, f frame) error {
	if _, err := p.Call(id); err != nil {
		return err
	}
	return p.send(f)
}

func wrap(what string, err error) error { return fmt.Errorf("%s: %w", what, err) }
