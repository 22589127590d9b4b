package voice

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"switchboard/backend"
)

// ClientFrame is a voice frame from a softphone (see backend.VoiceFrame).
type ClientFrame = backend.VoiceFrame

// Frames the engine sends to a user.
type (
	// incomingFrame rings a softphone: an offered call, or a consult.
	incomingFrame struct {
		Type          string       `json:"type"`
		Call          backend.Call `json:"call"`
		ReservationID string       `json:"reservationId,omitempty"`
		ExpiresAt     time.Time    `json:"expiresAt"`
		QueueID       string       `json:"queueId,omitempty"`
		QueueName     string       `json:"queueName,omitempty"`
		ContactName   string       `json:"contactName,omitempty"`
		Consult       bool         `json:"consult,omitempty"`
		From          string       `json:"from,omitempty"`
	}
	offerFrame struct {
		Type    string `json:"type"`
		CallID  string `json:"callId"`
		SDP     string `json:"sdp"`
		Consult bool   `json:"consult,omitempty"`
		// Monitor is how a supervisor joins the call (backend.Monitor*).
		Monitor string `json:"monitor,omitempty"`
	}
	// stateFrame is a call's new state; Monitor is set for a supervisor
	// on the call (voice.monitor when they join or change mode).
	stateFrame struct {
		Type    string       `json:"type"`
		Call    backend.Call `json:"call"`
		Monitor string       `json:"monitor,omitempty"`
	}
	digitsFrame struct {
		Type   string `json:"type"`
		CallID string `json:"callId"`
		Digits string `json:"digits"`
	}
	endedFrame struct {
		Type   string `json:"type"`
		CallID string `json:"callId"`
		Reason string `json:"reason"`
	}
	errorFrame struct {
		Type   string `json:"type"`
		CallID string `json:"callId,omitempty"`
		Nonce  string `json:"nonce,omitempty"`
		Error  string `json:"error"`
	}
	ackFrame struct {
		Type   string `json:"type"`
		CallID string `json:"callId,omitempty"`
		Nonce  string `json:"nonce,omitempty"`
	}
)

// HandleFrame carries out one voice frame from a signed-in user and answers
// on their connections with voice.ack or voice.error. Who may do what: an
// agent acts only on a call offered to them, theirs, or a consult ringing
// them; a supervisor or admin may also hang up any call.
func (e *Engine) HandleFrame(ctx context.Context, u backend.User, raw []byte) {
	var f ClientFrame
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		e.send(u.ID, errorFrame{Type: "voice.error", Error: "The voice frame is not valid JSON."})
		return
	}
	if err := e.handle(ctx, u, &f); err != nil {
		e.send(u.ID, errorFrame{Type: "voice.error", CallID: f.CallID, Nonce: f.Nonce, Error: backend.ErrorMessage(err)})
		return
	}
	e.send(u.ID, ackFrame{Type: "voice.ack", CallID: f.CallID, Nonce: f.Nonce})
}

func (e *Engine) handle(ctx context.Context, u backend.User, f *ClientFrame) error {
	if e.router == nil {
		return backend.Errorf(backend.EUnavailable, "Calls are not set up on this engine.")
	}
	if f.Type == "voice.dial" {
		rec, err := e.Dial(ctx, u, f.Number, f.Trunk)
		if err == nil {
			f.CallID = rec.ID
		}
		return err
	}
	c := e.live(f.CallID)
	if c == nil {
		return backend.Errorf(backend.ENotFound, "Call %s is not live.", f.CallID)
	}
	switch f.Type {
	case "voice.answer", "voice.decline":
		if f.ReservationID == "" && f.Type == "voice.answer" {
			return c.answerConsult(u)
		}
		if err := e.ownReservation(ctx, u, f.ReservationID); err != nil {
			return err
		}
		var err error
		if f.Type == "voice.answer" {
			_, err = e.router.AcceptReservation(ctx, f.ReservationID)
		} else {
			_, err = e.router.RejectReservation(ctx, f.ReservationID)
		}
		return err
	case "voice.sdp":
		if !strings.Contains(f.SDP, "m=audio") {
			return backend.Errorf(backend.EInvalid, "The SDP answer has no audio.")
		}
		return c.onAnswer(u, f.SDP)
	case "voice.hangup":
		if !c.isAgent(u) && !u.Role.AtLeast(backend.RoleSupervisor) {
			return notYours(f.CallID)
		}
		if b := c.b.Load(); b != nil && b.user.ID == u.ID {
			return c.cancelConsult(u)
		}
		go c.hangup("agent hung up", false)
		return nil
	}
	if a := c.a.Load(); a == nil || a.user.ID != u.ID {
		return notYours(f.CallID)
	}
	switch f.Type {
	case "voice.hold":
		return c.setHold(u, f.Hold)
	case "voice.dtmf":
		return c.sendDigits(f.Digits)
	case "voice.consult":
		w, err := e.router.Worker(ctx, f.WorkerID)
		if err != nil {
			return err
		}
		return c.consult(u, w)
	case "voice.complete":
		return c.completeTransfer(u)
	case "voice.return":
		return c.cancelConsult(u)
	case "voice.transfer":
		return c.blindTransfer(u, backend.TransferTarget{WorkerID: f.WorkerID, QueueID: f.QueueID})
	}
	return backend.Errorf(backend.EInvalid, "Unknown voice frame type %q.", f.Type)
}

func notYours(callID string) error {
	return backend.Errorf(backend.EForbidden, "Call %s is not yours.", callID)
}

// isAgent reports whether u is on the call (or consulted on it).
func (c *call) isAgent(u backend.User) bool {
	for _, s := range []*agentSide{c.a.Load(), c.b.Load()} {
		if s != nil && s.user.ID == u.ID {
			return true
		}
	}
	return false
}

// ownReservation checks that a reservation is offered to u's worker.
func (e *Engine) ownReservation(ctx context.Context, u backend.User, id string) error {
	w, err := e.router.WorkerByUserID(ctx, u.ID)
	if err != nil {
		return backend.Errorf(backend.EForbidden, "%s does not take calls.", u.Name)
	}
	list, err := e.router.Reservations(ctx, w.ID)
	if err != nil {
		return err
	}
	for _, r := range list {
		if r.ID == id {
			return nil
		}
	}
	return backend.Errorf(backend.ENotFound, "Offer %s is not yours or is no longer open.", id)
}

// CanSee reports whether u may read call c (and play its recording): the
// agent who had it, or a supervisor or admin.
func CanSee(u backend.User, c *backend.Call) bool {
	return u.Role.AtLeast(backend.RoleSupervisor) || c.UserID == u.ID
}
