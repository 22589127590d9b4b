package voice

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"switchboard/backend"
	"switchboard/backend/voice/dsp"
)

// dialLeg is the far end of an agent's outbound call through a trunk.
type dialLeg struct {
	s      *sipServer
	dlg    *sipgo.DialogClientSession
	rtp    *rtpLeg
	out    *outStream
	dtmfPT uint8
	ended  atomic.Bool
}

func (l *dialLeg) writeRTP(p *rtp.Packet) error { return l.rtp.writeRTP(p) }
func (l *dialLeg) answer() error                { return nil }

func (l *dialLeg) hangup() {
	if !l.ended.Swap(true) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		l.dlg.Bye(ctx)
		cancel()
	}
	l.close()
}

func (l *dialLeg) close() {
	l.rtp.close()
	l.dlg.Close()
	l.s.mu.Lock()
	delete(l.s.out, l.dlg.InviteRequest.CallID().Value())
	l.s.mu.Unlock()
}

func (l *dialLeg) sendDigits(digits string) {
	if l.dtmfPT == 0 || l.out == nil {
		return
	}
	go func() {
		for i := 0; i < len(digits); i++ {
			l.out.inject(digits[i], l.dtmfPT)
		}
	}()
}

// Dial places an agent's call to a number through a trunk (its proxy),
// answering the trunk's digest challenge with its credentials. Once the
// far end answers, the agent's softphone gets a voice.offer for the call.
// Returns EInvalid for a bad number or no trunk to dial out of, and
// EUnavailable when the call is not answered.
func (e *Engine) Dial(ctx context.Context, u backend.User, number, trunk string) (*backend.Call, error) {
	number = normalizeNumber(strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -().", r) {
			return -1
		}
		return r
	}, number))
	if len(number) < 4 || number[0] != '+' {
		return nil, backend.Errorf(backend.EInvalid, "Dial a phone number in international format, such as +15551234567.")
	}
	if e.sip == nil {
		return nil, backend.Errorf(backend.EUnavailable, "This engine takes no phone calls (no SIP address is set).")
	}
	name, tc, err := e.sip.outboundTrunk(trunk)
	if err != nil {
		return nil, err
	}
	rec := &backend.Call{Channel: backend.CallChannelSIP, Instance: name, Direction: backend.CallOutbound,
		From: tc.CallerID, To: number, State: backend.CallDialing, UserID: u.ID, UserName: u.Name}
	if err := e.store.OpenCall(ctx, rec, backend.Identity{ExternalID: number, DisplayName: number}, number,
		backend.CallNote{Text: u.Name + " is calling " + number + "."}); err != nil {
		return nil, err
	}
	resID, err := e.outboundTask(ctx, u, rec)
	if err == nil {
		err = e.store.SaveCall(ctx, rec, backend.CallNote{})
	}
	if err != nil {
		rec.State, rec.EndReason, rec.EndedAt = backend.CallEnded, "not placed", e.opts.Now().UTC()
		if serr := e.store.SaveCall(ctx, rec, backend.CallNote{Text: "The call to " + number + " was not placed: " + backend.ErrorMessage(err)}); serr != nil {
			e.log.Error("voice: save call", "error", serr)
		}
		return nil, err
	}
	go e.placeCall(u, rec, tc, resID)
	return rec, nil
}

// outboundTask gives an agent's outbound call its voice task, assigned to
// them at once: the call counts against their voice capacity, its
// conversation is theirs, and it ends in wrap-up like an inbound call. It
// returns the reservation that assigned it ("" for a user who takes no
// tasks: they call without one).
func (e *Engine) outboundTask(ctx context.Context, u backend.User, rec *backend.Call) (string, error) {
	w, err := e.router.WorkerByUserID(ctx, u.ID)
	if backend.ErrorCode(err) == backend.ENotFound {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	t, err := e.router.CreateTask(ctx, backend.TaskInput{Channel: backend.ChannelVoice, ConversationID: rec.ConversationID,
		Attributes: map[string]any{"direction": backend.CallOutbound, "to": rec.To}})
	if err != nil {
		return "", err
	}
	r, err := e.router.AssignTask(ctx, t.ID, w.ID)
	if err != nil {
		if _, cerr := e.router.CancelTask(ctx, t.ID, "the agent could not take the call"); cerr != nil {
			e.log.Warn("voice: cancel outbound task", "task", t.ID, "error", cerr)
		}
		return "", err
	}
	rec.TaskID = t.ID
	return r.ID, nil
}

// placeCall sends the INVITE and, once answered, connects the agent. The
// task's reservation resID is the agent's already: the engine does not
// connect them a second time when the router's event for it arrives.
func (e *Engine) placeCall(u backend.User, rec *backend.Call, tc *TrunkConfig, resID string) {
	fail := func(reason string) {
		rec.State, rec.EndReason, rec.EndedAt = backend.CallEnded, reason, e.opts.Now().UTC()
		if err := e.store.SaveCall(e.ctx, rec, backend.CallNote{Text: "The call to " + rec.To + " failed: " + reason + "."}); err != nil {
			e.log.Error("voice: save call", "error", err)
		}
		if rec.TaskID != "" {
			e.endTask(rec.TaskID, false, reason)
		}
		e.send(u.ID, endedFrame{Type: "voice.ended", CallID: rec.ID, Reason: reason})
	}
	conv, err := e.store.FindConversationByID(e.ctx, rec.ConversationID)
	if err != nil {
		fail("internal error")
		return
	}
	leg, media, err := e.sip.invite(e.ctx, rec, tc)
	if err != nil {
		e.log.Warn("voice: outbound call", "call", rec.ID, "error", err)
		fail(err.Error())
		return
	}
	c := e.newCall(rec, conv, media.pt, leg, media.dtmfPT)
	c.answered, c.placedRes = true, resID
	leg.out, leg.dtmfPT = c.out, media.dtmfPT
	e.register(c)
	go leg.rtp.run(func(p *rtp.Packet) { c.fromCaller(p, media.dtmfPT) })
	w, err := e.router.WorkerByUserID(e.ctx, u.ID)
	side := &agentSide{user: u}
	if err == nil {
		side.workerID = w.ID
	}
	c.connect(side)
}

// outboundTrunk picks the trunk to dial out of: the named one, or the only
// one with a proxy.
func (s *sipServer) outboundTrunk(name string) (string, *TrunkConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name != "" {
		if c := s.trunks[name]; c != nil && c.Proxy != "" {
			return name, c, nil
		}
		return "", nil, backend.Errorf(backend.EInvalid, "Trunk %s does not take outbound calls (it has no proxy).", name)
	}
	found := ""
	for n, c := range s.trunks {
		if c.Proxy != "" {
			if found != "" {
				return "", nil, backend.Errorf(backend.EInvalid, "Name the trunk to dial out of; several can.")
			}
			found = n
		}
	}
	if found == "" {
		return "", nil, backend.Errorf(backend.EInvalid, "No trunk takes outbound calls; an admin sets a trunk's proxy.")
	}
	return found, s.trunks[found], nil
}

// invite places a call to rec.To through the trunk's proxy and waits up to
// a minute for the answer.
func (s *sipServer) invite(ctx context.Context, rec *backend.Call, tc *TrunkConfig) (*dialLeg, *sipMedia, error) {
	conn, err := listenRTP(s.e.opts.BindIP, s.e.opts.RTPPortMin, s.e.opts.RTPPortMax)
	if err != nil {
		return nil, nil, fmt.Errorf("no RTP port")
	}
	r := newRTPLeg(conn)
	host, port, _ := net.SplitHostPort(tc.Proxy)
	p, _ := strconv.Atoi(port)
	from := tc.CallerID
	if from == "" {
		from = "switchboard"
	}
	offer := buildOffer(s.host, r.port())
	fromHdr := sip.NewHeader("From", fmt.Sprintf("<sip:%s@%s>;tag=%s", from, s.host, sip.GenerateTagN(16)))
	ictx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	dlg, err := s.clients.Invite(ictx, sip.Uri{User: rec.To, Host: host, Port: p}, offer, fromHdr, sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		r.close()
		return nil, nil, fmt.Errorf("the trunk could not be reached")
	}
	if err := dlg.WaitAnswer(ictx, sipgo.AnswerOptions{Username: tc.Username, Password: tc.Password}); err != nil {
		r.close()
		dlg.Close()
		return nil, nil, fmt.Errorf("no answer")
	}
	if err := dlg.Ack(ictx); err != nil {
		r.close()
		dlg.Close()
		return nil, nil, fmt.Errorf("the answer could not be acknowledged")
	}
	media, err := parseSIPOffer(dlg.InviteResponse.Body())
	if err != nil {
		dlg.Bye(ctx)
		r.close()
		dlg.Close()
		return nil, nil, fmt.Errorf("the far end answered without G.711")
	}
	r.remote.Store(media.addr)
	leg := &dialLeg{s: s, dlg: dlg, rtp: r}
	s.mu.Lock()
	s.out[dlg.InviteRequest.CallID().Value()] = leg
	s.mu.Unlock()
	return leg, media, nil
}

// buildOffer is the engine's SDP offer: PCMU, PCMA and telephone-event.
func buildOffer(ip string, port int) []byte {
	return []byte(fmt.Sprintf("v=0\r\no=switchboard %d 1 IN IP4 %s\r\ns=Switchboard\r\nc=IN IP4 %s\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP %d %d 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
		newSessionID(), ip, ip, port, dsp.PayloadPCMU, dsp.PayloadPCMA))
}

// hangupLeg ends the call whose far end an outbound leg is.
func (e *Engine) hangupLeg(l *dialLeg) {
	e.mu.Lock()
	var found *call
	for _, c := range e.calls {
		if c.caller == l {
			found = c
		}
	}
	e.mu.Unlock()
	if found != nil {
		go found.hangup("the far end hung up", true)
	}
	l.close()
}
