package voice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"switchboard/backend"
)

// sipServer is the engine's SIP user agent on UDP: it takes trunks' calls
// and keeps registrations and keep-alives going.
type sipServer struct {
	e       *Engine
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	client  *sipgo.Client
	dialogs *sipgo.DialogServerCache
	conn    net.PacketConn
	host    string // what SDP and Contact announce
	port    int

	mu     sync.Mutex
	trunks map[string]*TrunkConfig
	legs   map[string]*sipLeg // by dialog id
	// clients and out are the agents' outbound calls (by Call-ID).
	clients *sipgo.DialogClientCache
	out     map[string]*dialLeg
	stop    context.CancelFunc // the registration and keep-alive loops
	wg      sync.WaitGroup
}

func (e *Engine) startSIP(ctx context.Context) (*sipServer, error) {
	conn, err := net.ListenPacket("udp4", e.opts.SIPAddr)
	if err != nil {
		return nil, fmt.Errorf("voice: listen for SIP on %s: %w", e.opts.SIPAddr, err)
	}
	laddr := conn.LocalAddr().(*net.UDPAddr)
	host := e.opts.PublicIP
	if host == "" {
		host = laddr.IP.String()
		if laddr.IP.IsUnspecified() {
			host = outboundIP()
		}
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("Switchboard"), sipgo.WithUserAgentHostname(host))
	if err != nil {
		conn.Close()
		return nil, err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(quietLogger(e.log)))
	if err != nil {
		conn.Close()
		return nil, err
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientLogger(quietLogger(e.log)))
	if err != nil {
		conn.Close()
		return nil, err
	}
	s := &sipServer{e: e, ua: ua, srv: srv, client: client, conn: conn, host: host, port: laddr.Port,
		legs: map[string]*sipLeg{}, out: map[string]*dialLeg{}}
	s.dialogs = sipgo.NewDialogServerCache(client, sip.ContactHeader{Address: sip.Uri{User: "switchboard", Host: host, Port: laddr.Port}})
	s.clients = sipgo.NewDialogClientCache(client, sip.ContactHeader{Address: sip.Uri{User: "switchboard", Host: host, Port: laddr.Port}})
	srv.OnInvite(s.onInvite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { s.dialogs.ReadAck(req, tx) })
	srv.OnBye(s.onBye)
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS"))
		res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
		tx.Respond(res)
	})
	go srv.ServeUDP(conn)
	s.reload(ctx)
	return s, nil
}

// quietLogger keeps sipgo's chatter at warnings.
func quietLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelHandler{l.Handler(), slog.LevelWarn})
}

type levelHandler struct {
	slog.Handler
	min slog.Level
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// outboundIP returns the address this machine reaches others from.
func outboundIP() string {
	if c, err := net.Dial("udp4", "192.0.2.1:9"); err == nil { // no packet is sent
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).IP.String()
	}
	return "127.0.0.1"
}

// reload reads the trunks and restarts registrations and keep-alives.
func (s *sipServer) reload(ctx context.Context) {
	list, err := s.e.store.FindTrunks(ctx)
	if err != nil {
		s.e.log.Error("voice: load trunks", "error", err)
		return
	}
	trunks := map[string]*TrunkConfig{}
	for _, t := range list {
		if !t.Enabled {
			continue
		}
		c, err := ParseTrunkConfig(t.Config)
		if err != nil {
			s.e.log.Error("voice: trunk not started", "trunk", t.Name, "error", backend.ErrorMessage(err))
			continue
		}
		trunks[t.Name] = c
	}
	s.mu.Lock()
	if s.stop != nil {
		s.stop()
	}
	loopCtx, stop := context.WithCancel(s.e.ctx)
	s.trunks, s.stop = trunks, stop
	s.mu.Unlock()
	for name, c := range trunks {
		if c.Registrar != "" {
			s.wg.Add(1)
			go s.registerLoop(loopCtx, name, c)
		}
		if c.Proxy != "" {
			s.wg.Add(1)
			go s.keepAlive(loopCtx, name, c)
		}
	}
}

func (s *sipServer) close() {
	s.mu.Lock()
	if s.stop != nil {
		s.stop()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.srv.Close()
	s.client.Close()
	s.ua.Close()
	s.conn.Close()
}

// trunkFor returns the trunk a call from src to number belongs to.
func (s *sipServer) trunkFor(src string, number string) (string, bool) {
	host, _, err := net.SplitHostPort(src)
	ip := net.ParseIP(host)
	if err != nil || ip == nil {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, c := range s.trunks {
		if c.allows(ip, number) {
			return name, true
		}
	}
	return "", false
}

// sipLeg is the caller's side of a call from a trunk.
type sipLeg struct {
	s      *sipServer
	dlg    *sipgo.DialogServerSession
	rtp    *rtpLeg
	media  atomic.Pointer[sipMedia]
	sessID uint64
	sdpVer atomic.Uint64
	out    *outStream // set once the call exists (DTMF injection)

	answerReq chan struct{}
	answerRes chan error
	reject    chan int
	answered  atomic.Bool
	held      atomic.Bool
	call      atomic.Pointer[call]
}

// writeRTP implements sink; nothing is sent while the peer holds the call.
func (l *sipLeg) writeRTP(p *rtp.Packet) error {
	if l.held.Load() {
		return nil
	}
	return l.rtp.writeRTP(p)
}

func (l *sipLeg) sdp() []byte {
	m := l.media.Load()
	dir := answerDirection(m.direction)
	return buildSIPSDP(l.s.host, l.rtp.port(), l.sessID, l.sdpVer.Load(), m.pt, m.dtmfPT, dir)
}

// answer implements callerLeg: the INVITE handler sends 200 OK and waits
// for the ACK.
func (l *sipLeg) answer() error {
	if l.answered.Load() {
		return nil
	}
	select {
	case l.answerReq <- struct{}{}:
		if err := <-l.answerRes; err != nil {
			return err
		}
		l.answered.Store(true)
		return nil
	case <-l.dlg.Context().Done():
		return backend.Errorf(backend.EConflict, "The caller hung up.")
	}
}

// hangup implements callerLeg.
func (l *sipLeg) hangup() {
	if l.answered.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := l.dlg.Bye(ctx); err != nil {
			l.s.e.log.Warn("voice: send BYE", "error", err)
		}
		cancel()
	} else {
		select {
		case l.reject <- sip.StatusTemporarilyUnavailable:
		default:
		}
	}
	l.close()
}

func (l *sipLeg) close() {
	l.rtp.close()
	l.dlg.Close()
	l.s.mu.Lock()
	delete(l.s.legs, l.dlg.ID)
	l.s.mu.Unlock()
}

// sendDigits implements callerLeg with RFC 4733 events.
func (l *sipLeg) sendDigits(digits string) {
	m := l.media.Load()
	if m.dtmfPT == 0 || l.out == nil {
		return
	}
	go func() {
		for i := 0; i < len(digits); i++ {
			l.out.inject(digits[i], m.dtmfPT)
		}
	}()
}

func (s *sipServer) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.onReInvite(req, tx)
		return
	}
	number := req.Recipient.User
	if to := req.To(); to != nil && to.Address.User != "" {
		number = to.Address.User
	}
	trunk, ok := s.trunkFor(req.Source(), number)
	if !ok {
		s.e.log.Warn("voice: INVITE from an unknown peer refused", "source", req.Source())
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		return
	}
	dlg, err := s.dialogs.ReadInvite(req, tx)
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	answered := false
	defer func() {
		if !answered { // an answered dialog lives on until BYE
			dlg.Close()
		}
	}()
	dlg.Respond(sip.StatusTrying, "Trying", nil)
	media, err := parseSIPOffer(req.Body())
	if err != nil {
		dlg.Respond(sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		return
	}
	conn, err := listenRTP(s.e.opts.BindIP, s.e.opts.RTPPortMin, s.e.opts.RTPPortMax)
	if err != nil {
		s.e.log.Error("voice: RTP port", "error", err)
		dlg.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
		return
	}
	leg := &sipLeg{s: s, dlg: dlg, rtp: newRTPLeg(conn), sessID: newSessionID(),
		answerReq: make(chan struct{}), answerRes: make(chan error, 1), reject: make(chan int, 1)}
	leg.media.Store(media)
	leg.rtp.remote.Store(media.addr)
	s.mu.Lock()
	s.legs[dlg.ID] = leg
	s.mu.Unlock()
	from := ""
	if f := req.From(); f != nil {
		from = f.Address.User
	}
	c, err := s.e.inbound(trunk, normalizeNumber(from), normalizeNumber(number), leg, media)
	if err != nil {
		s.e.log.Error("voice: open call", "error", err)
		leg.close()
		dlg.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
		return
	}
	dlg.Respond(sip.StatusRinging, "Ringing", nil)
	for {
		select {
		case <-leg.answerReq:
			leg.sdpVer.Add(1)
			err := dlg.RespondSDP(leg.sdp())
			answered = err == nil
			leg.answerRes <- err
			if err != nil {
				go c.hangup("answer failed", true)
			}
			return
		case code := <-leg.reject:
			dlg.Respond(code, "Unavailable", nil)
			return
		case <-dlg.Context().Done():
			go c.hangup("caller hung up before the answer", true)
			return
		}
	}
}

// onReInvite answers a re-INVITE in a call: a peer putting the call on
// hold (sendonly or inactive) is answered recvonly or inactive and sent
// nothing until it resumes.
func (s *sipServer) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	dlg, err := s.dialogs.MatchDialogRequest(req)
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	if err := dlg.ReadRequest(req, tx); err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Invalid CSeq", nil))
		return
	}
	s.mu.Lock()
	leg := s.legs[dlg.ID]
	s.mu.Unlock()
	media, err := parseSIPOffer(req.Body())
	if leg == nil || err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil))
		return
	}
	old := leg.media.Load()
	media.pt, media.dtmfPT = old.pt, old.dtmfPT // the codec stays
	leg.media.Store(media)
	if !media.addr.IP.IsUnspecified() {
		leg.rtp.remote.Store(media.addr)
	}
	wasHeld := leg.held.Swap(media.held())
	leg.sdpVer.Add(1)
	res := sip.NewSDPResponseFromRequest(req, leg.sdp())
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{User: "switchboard", Host: s.host, Port: s.port}})
	tx.Respond(res)
	if c := leg.call.Load(); c != nil && wasHeld != media.held() {
		c.mu.Lock()
		if media.held() {
			c.save(backend.CallNote{Text: "The caller put the call on hold."})
		} else {
			c.save(backend.CallNote{Text: "The caller resumed the call."})
		}
		c.mu.Unlock()
	}
}

func (s *sipServer) onBye(req *sip.Request, tx sip.ServerTransaction) {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	s.mu.Lock()
	leg := s.legs[id]
	out := s.out[req.CallID().Value()]
	s.mu.Unlock()
	if leg == nil && out != nil {
		if err := s.clients.ReadBye(req, tx); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
			return
		}
		out.ended.Store(true)
		s.e.hangupLeg(out)
		return
	}
	if err := s.dialogs.ReadBye(req, tx); err != nil {
		if errors.Is(err, sipgo.ErrDialogDoesNotExists) {
			tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		}
		return
	}
	if leg != nil {
		leg.answered.Store(false) // the dialog is over: no BYE back
		if c := leg.call.Load(); c != nil {
			go c.hangup("caller hung up", true)
		}
		leg.close()
	}
}

// inbound opens a call from a trunk and starts its voice flow.
func (e *Engine) inbound(trunk, from, to string, leg *sipLeg, media *sipMedia) (*call, error) {
	rec := &backend.Call{Channel: backend.CallChannelSIP, Instance: trunk, Direction: backend.CallInbound,
		From: from, To: to, State: backend.CallRinging}
	if err := e.store.OpenCall(e.ctx, rec, backend.Identity{ExternalID: from, DisplayName: from}, from,
		backend.CallNote{Text: "Incoming call from " + from + " to " + to + "."}); err != nil {
		return nil, err
	}
	conv, err := e.store.FindConversationByID(e.ctx, rec.ConversationID)
	if err != nil {
		return nil, err
	}
	c := e.newCall(rec, conv, media.pt, leg, media.dtmfPT)
	leg.out = c.out
	leg.call.Store(c)
	e.register(c)
	go leg.rtp.run(func(p *rtp.Packet) { c.fromCaller(p, leg.media.Load().dtmfPT) })
	go c.startFlow()
	return c, nil
}
