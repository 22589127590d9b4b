package voice

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"

	"switchboard/backend"
	"switchboard/backend/voice/dsp"
)

// webrtcDTMFPT is the telephone-event payload type the engine offers.
const webrtcDTMFPT = 101

// peerAPIs builds one pion API per G.711 codec, so a WebRTC leg offers
// exactly the codec of the call's other leg and audio passes through.
func peerAPIs(opts Options) (map[uint8]*webrtc.API, error) {
	apis := map[uint8]*webrtc.API{}
	for pt, mime := range map[uint8]string{dsp.PayloadPCMU: webrtc.MimeTypePCMU, dsp.PayloadPCMA: webrtc.MimeTypePCMA} {
		m := &webrtc.MediaEngine{}
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 8000, Channels: 1},
			PayloadType: webrtc.PayloadType(pt)}, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 8000, SDPFmtpLine: "0-16"},
			PayloadType: webrtcDTMFPT}, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
		ir := &interceptor.Registry{}
		if err := webrtc.ConfigureRTCPReports(ir); err != nil {
			return nil, err
		}
		s := SettingEngine(opts.BindIP, opts.PublicIP, opts.RTPPortMin, opts.RTPPortMax)
		apis[pt] = webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(s))
	}
	return apis, nil
}

// SettingEngine returns pion settings for peers that gather on bindIP (all
// interfaces when unspecified; loopback tests include loopback), use ports
// in [lo, hi] when set, and announce publicIP behind a 1:1 NAT.
func SettingEngine(bindIP net.IP, publicIP string, lo, hi int) webrtc.SettingEngine {
	var s webrtc.SettingEngine
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if lo > 0 && hi >= lo {
		s.SetEphemeralUDPPortRange(uint16(lo), uint16(hi))
	}
	if bindIP != nil && !bindIP.IsUnspecified() {
		s.SetIncludeLoopbackCandidate(bindIP.IsLoopback())
		s.SetIPFilter(func(ip net.IP) bool { return ip.Equal(bindIP) })
	}
	if publicIP != "" {
		s.SetNAT1To1IPs([]string{publicIP}, webrtc.ICECandidateTypeHost)
	}
	return s
}

// peerLeg is a WebRTC leg: an agent's softphone or a website caller.
type peerLeg struct {
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP

	// dtmfPT is the far end's telephone-event payload type (0: none),
	// read for every packet the leg receives.
	dtmfPT    atomic.Uint32
	mu        sync.Mutex
	connected chan struct{}
	failed    chan struct{}
	closeOnce sync.Once
}

// newPeer creates a leg offering one G.711 codec (pt) and returns it with
// its complete offer (all ICE candidates included). onPacket receives the
// far end's packets (reused after it returns); onEnd is called once when
// the connection fails or closes.
func (e *Engine) newPeer(ctx context.Context, pt uint8, onPacket func(*rtp.Packet, uint8), onEnd func()) (*peerLeg, string, error) {
	api := e.apis[pt]
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", fmt.Errorf("new peer: %w", err)
	}
	mime := webrtc.MimeTypePCMU
	if pt == dsp.PayloadPCMA {
		mime = webrtc.MimeTypePCMA
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 8000, Channels: 1}, "audio", "switchboard")
	if err != nil {
		pc.Close()
		return nil, "", err
	}
	l := &peerLeg{pc: pc, track: track, connected: make(chan struct{}), failed: make(chan struct{})}
	sender, err := pc.AddTrack(track)
	if err != nil {
		pc.Close()
		return nil, "", err
	}
	go drainRTCP(sender)
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		go l.read(tr, onPacket)
	})
	var endOnce sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			l.closeOnceChan(l.connected)
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			l.closeOnceChan(l.failed)
			if onEnd != nil {
				endOnce.Do(func() { go onEnd() })
			}
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		pc.Close()
		return nil, "", err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		pc.Close()
		return nil, "", err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		pc.Close()
		return nil, "", ctx.Err()
	}
	return l, pc.LocalDescription().SDP, nil
}

func (l *peerLeg) closeOnceChan(c chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-c:
	default:
		close(c)
	}
}

// setAnswer applies the far end's answer. Returns EInvalid for a bad one.
func (l *peerLeg) setAnswer(sdp string) error {
	if err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return backend.Errorf(backend.EInvalid, "The answer is not a valid session description.")
	}
	for _, tr := range l.pc.GetTransceivers() {
		if tr.Receiver() == nil {
			continue
		}
		for _, c := range tr.Receiver().GetParameters().Codecs {
			if c.MimeType == "audio/telephone-event" {
				l.dtmfPT.Store(uint32(c.PayloadType))
			}
		}
	}
	return nil
}

// waitConnected waits until media can flow. Returns EUnavailable when the
// connection fails or takes longer than d.
func (l *peerLeg) waitConnected(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-l.connected:
		return nil
	case <-l.failed:
	case <-t.C:
	}
	return backend.Errorf(backend.EUnavailable, "The call's audio connection could not be set up.")
}

func (l *peerLeg) read(tr *webrtc.TrackRemote, onPacket func(*rtp.Packet, uint8)) {
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		onPacket(&p, uint8(l.dtmfPT.Load()))
	}
}

// writeRTP implements sink.
func (l *peerLeg) writeRTP(p *rtp.Packet) error { return l.track.WriteRTP(p) }

func (l *peerLeg) close() {
	l.closeOnce.Do(func() { l.pc.Close() })
}

// drainRTCP reads a sender's RTCP so its interceptors (receiver reports)
// keep working.
func drainRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}
