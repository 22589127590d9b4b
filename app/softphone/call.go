package softphone

import (
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"

	"switchboard/backend"
	"switchboard/backend/voice/dsp"
)

// Call is one call on the phone: its signaling state and, once answered,
// its WebRTC connection.
type Call struct {
	p *Phone

	mu    sync.Mutex
	info  CallInfo
	pc    *webrtc.PeerConnection
	stop  chan struct{}
	stats dsp.RecvStats
	// window is the expected/received count at the last quality report.
	winExp, winRecv uint64
	rttMs           float64
	pt              uint8
}

// Info returns the call as the UI shows it.
func (c *Call) Info() CallInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info
}

// setRecord takes the engine's new record of the call and, for a
// supervisor on it, how they are on it.
func (c *Call) setRecord(r backend.Call, monitor string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.info.Call = r
	c.info.Ringing = false
	if monitor != "" {
		c.info.Monitor = monitor
	}
}

func rtcpRegistry() (*interceptor.Registry, error) {
	ir := &interceptor.Registry{}
	return ir, webrtc.ConfigureRTCPReports(ir)
}

// answerOffer answers the engine's offer: the microphone goes out, the far
// end's audio comes in, and quality is measured.
func (c *Call) answerOffer(offer string) error {
	pc, err := c.p.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	pt, mime := uint8(dsp.PayloadPCMU), webrtc.MimeTypePCMU
	if !strings.Contains(offer, "PCMU/8000") && strings.Contains(offer, "PCMA/8000") {
		pt, mime = dsp.PayloadPCMA, webrtc.MimeTypePCMA
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 8000, Channels: 1}, "mic", "softphone")
	if err != nil {
		pc.Close()
		return err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		pc.Close()
		return wrap("set offer", err)
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		pc.Close()
		return err
	}
	stop := make(chan struct{})
	c.mu.Lock()
	old := c.pc
	c.pc, c.stop, c.pt = pc, stop, pt
	c.stats = dsp.RecvStats{}
	c.winExp, c.winRecv = 0, 0
	c.mu.Unlock()
	if old != nil {
		old.Close()
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { go c.receive(tr, stop) })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			go c.transmit(track, stop)
			go c.report(stop)
		}
	})
	go c.readRTCP(sender)
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return err
	}
	<-gathered
	return c.p.send(frame{Type: "voice.sdp", CallID: c.info.ID, SDP: pc.LocalDescription().SDP})
}

// transmit sends the microphone every 20 ms (silence when muted).
func (c *Call) transmit(track *webrtc.TrackLocalStaticRTP, stop chan struct{}) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	frame := make([]int16, FrameSamples)
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
	payload := make([]byte, 0, FrameSamples)
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		c.mu.Lock()
		muted, pt := c.info.Muted, c.pt
		c.mu.Unlock()
		if err := c.p.opts.Mic.Read(frame); err != nil || muted {
			clear(frame)
		}
		pkt.PayloadType = pt
		pkt.Payload = dsp.Encode(payload[:0], pt, frame)
		if err := track.WriteRTP(pkt); err != nil {
			return
		}
		pkt.SequenceNumber++
		pkt.Timestamp += FrameSamples
	}
}

// receive plays the far end's audio and counts it for the quality figures.
func (c *Call) receive(tr *webrtc.TrackRemote, stop chan struct{}) {
	buf := make([]byte, 1500)
	var p rtp.Packet
	pcm := make([]int16, 0, FrameSamples)
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		if p.Unmarshal(buf[:n]) != nil || (p.PayloadType != dsp.PayloadPCMU && p.PayloadType != dsp.PayloadPCMA) {
			continue
		}
		c.mu.Lock()
		c.stats.Add(p.SequenceNumber, p.Timestamp, time.Now())
		c.mu.Unlock()
		pcm = dsp.Decode(pcm[:0], p.PayloadType, p.Payload)
		c.p.opts.Speaker.Write(pcm)
	}
}

// readRTCP reads the engine's receiver reports about our stream for the
// round-trip time (RFC 3550 §6.4.1: arrival − LSR − DLSR).
func (c *Call) readRTCP(s *webrtc.RTPSender) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		now := ntpMiddle(time.Now())
		for _, pkt := range pkts {
			rr, ok := pkt.(*rtcp.ReceiverReport)
			if !ok {
				continue
			}
			for _, r := range rr.Reports {
				if r.LastSenderReport == 0 {
					continue
				}
				d := now - r.LastSenderReport - r.Delay
				c.mu.Lock()
				c.rttMs = float64(d) * 1000 / 65536
				c.mu.Unlock()
			}
		}
	}
}

// ntpMiddle returns the middle 32 bits of t's NTP timestamp.
func ntpMiddle(t time.Time) uint32 {
	const ntpEpochOffset = 2208988800
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return uint32((secs<<32 | frac) >> 16)
}

// report updates the quality figures every second: loss over the last
// second, jitter and round-trip time, the MOS estimate and the warnings.
func (c *Call) report(stop chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		c.mu.Lock()
		exp, recv := c.stats.Expected(), c.stats.Received()
		if recv == 0 { // no audio yet: no figures to judge
			c.mu.Unlock()
			continue
		}
		q := dsp.Quality{JitterMs: c.stats.JitterMs(), RTTMs: c.rttMs}
		if de := exp - c.winExp; de > 0 && exp >= c.winExp {
			if lost := int64(de) - int64(recv-c.winRecv); lost > 0 {
				q.LossPercent = 100 * float64(lost) / float64(de)
			}
		}
		c.winExp, c.winRecv = exp, recv
		q.Judge()
		c.info.Quality = q
		info := c.info
		c.mu.Unlock()
		c.p.opts.OnEvent(Event{Type: "quality", Call: info})
	}
}

// Quality returns the call's latest quality figures.
func (c *Call) Quality() dsp.Quality {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info.Quality
}

// stopMedia closes the call's connection.
func (c *Call) stopMedia() {
	c.mu.Lock()
	pc, stop := c.pc, c.stop
	c.pc, c.stop = nil, nil
	c.mu.Unlock()
	if stop != nil {
		close(stop)
	}
	if pc != nil {
		pc.Close()
	}
}
