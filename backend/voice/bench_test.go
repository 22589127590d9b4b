package voice

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"

	"switchboard/backend/voice/dsp"
)

// The bridge benchmark runs the engine's bridges in the benchmark process
// and the far ends (callers on the SIP side, agents' pion peers) in a child
// process, so the CPU measured is the engine's alone. They talk over the
// child's stdin and stdout:
//
//	engine → far end:  call <i> <engine RTP port> <offer, base64>
//	far end → engine:  answer <i> <caller RTP port> <answer, base64>
//	engine → far end:  run <seconds> <loss 0..1>
//	far end → engine:  result <JSON farResult>

// farResult is what the far end measured.
type farResult struct {
	Sent, Dropped, AtAgent, AtCaller uint64
	JitterMs, RTTMs                  float64
}

// BenchmarkBridge relays G.711 both ways through BRIDGE_CALLS (default
// 100) bridged calls for BRIDGE_SECONDS (default 10) of audio while the
// callers' path drops BRIDGE_LOSS (0..1) of their packets at random. It
// reports loss, the engine's CPU per call, the delay the relay adds from
// reading a caller's packet to handing it, encrypted, to the agent's
// socket, and the MOS estimate at the agents.
func BenchmarkBridge(b *testing.B) {
	calls := envInt("BRIDGE_CALLS", 100)
	seconds := envInt("BRIDGE_SECONDS", 10)
	loss, _ := strconv.ParseFloat(os.Getenv("BRIDGE_LOSS"), 64)
	e, err := New(nil, Options{BindIP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBridgeFarEnd$")
	cmd.Env = append(os.Environ(), "BRIDGE_FAREND=1")
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	outPipe, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Process.Kill()
	out := bufio.NewScanner(outPipe)
	out.Buffer(make([]byte, 1<<20), 1<<20)

	var mu sync.Mutex
	var delays []time.Duration
	var bridges []*bridge
	answers := make(chan []string, calls)
	go func() { // read while writing: both pipes are bounded
		for range calls {
			answers <- nextLine(b, out, "answer")
		}
	}()
	for i := 0; i < calls; i++ {
		br, offer, err := newBridge(e, &mu, &delays)
		if err != nil {
			b.Fatal(err)
		}
		bridges = append(bridges, br)
		fmt.Fprintf(in, "call %d %d %s\n", i, br.leg.port(), base64.StdEncoding.EncodeToString([]byte(offer)))
	}
	for range calls {
		f := <-answers
		i, _ := strconv.Atoi(f[1])
		port, _ := strconv.Atoi(f[2])
		sdp, _ := base64.StdEncoding.DecodeString(f[3])
		bridges[i].leg.remote.Store(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err := bridges[i].peer.setAnswer(string(sdp)); err != nil {
			b.Fatal(err)
		}
	}
	for _, br := range bridges {
		if err := br.peer.waitConnected(time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	defer func() {
		for _, br := range bridges {
			br.peer.close()
			br.leg.close()
		}
	}()
	b.ResetTimer()
	for range b.N {
		mu.Lock()
		delays = delays[:0]
		mu.Unlock()
		cpu0, wall0 := cpuTime(), time.Now()
		fmt.Fprintf(in, "run %d %g\n", seconds, loss)
		f := nextLine(b, out, "result")
		cpu, wall := cpuTime()-cpu0, time.Since(wall0)
		var r farResult
		json.Unmarshal([]byte(f[1]), &r)
		mu.Lock()
		d := slices.Clone(delays)
		mu.Unlock()
		slices.Sort(d)
		pct := func(p float64) time.Duration {
			if len(d) == 0 {
				return 0
			}
			return d[min(len(d)-1, int(p*float64(len(d))))]
		}
		lossAgent := 100 * (1 - float64(r.AtAgent)/float64(r.Sent))
		b.ReportMetric(float64(calls), "calls")
		b.ReportMetric(lossAgent, "%loss-at-agent")
		b.ReportMetric(100*(1-float64(r.AtAgent)/float64(r.Sent-r.Dropped)), "%lost-in-bridge")
		b.ReportMetric(100*(1-float64(r.AtCaller)/float64(r.Sent)), "%loss-at-caller")
		// CPU per call: the engine's CPU time over the call-seconds of audio
		// relayed; pacing above 1 means the far end could not keep 20 ms
		// (the machine was saturated), so fewer packets flowed than nominal.
		b.ReportMetric(100*cpu.Seconds()/float64(calls*seconds), "%core/call")
		b.ReportMetric(float64(r.Sent)/float64(calls*seconds*50), "sent/nominal")
		b.ReportMetric(wall.Seconds()/float64(seconds), "pacing")
		b.ReportMetric(float64(pct(0.5).Nanoseconds())/1000, "µs-p50")
		b.ReportMetric(float64(pct(0.99).Nanoseconds())/1000, "µs-p99")
		b.ReportMetric(r.JitterMs, "ms-jitter")
		b.ReportMetric(r.RTTMs, "ms-rtt")
		b.ReportMetric(dsp.MOS(r.RTTMs, r.JitterMs, lossAgent), "MOS")
	}
	fmt.Fprintln(in, "quit")
}

// bridge is the engine's side of one call: the SIP leg's RTP socket and
// the agent's WebRTC leg, relaying to each other.
type bridge struct {
	leg  *rtpLeg
	peer *peerLeg
}

func newBridge(e *Engine, mu *sync.Mutex, delays *[]time.Duration) (*bridge, string, error) {
	conn, err := listenRTP(net.IPv4(127, 0, 0, 1), 0, 0)
	if err != nil {
		return nil, "", err
	}
	br := &bridge{leg: newRTPLeg(conn)}
	callerSrc, agentSrc := newSourceID(), newSourceID()
	toCaller := &outStream{sink: br.leg, audioPT: dsp.PayloadPCMU}
	toCaller.setSource(agentSrc)
	peer, offer, err := e.newPeer(context.Background(), dsp.PayloadPCMU, func(p *rtp.Packet, dt uint8) {
		toCaller.write(agentSrc, p, dt)
	}, nil)
	if err != nil {
		return nil, "", err
	}
	br.peer = peer
	toAgent := &outStream{sink: peer, audioPT: dsp.PayloadPCMU}
	toAgent.setSource(callerSrc)
	go br.leg.run(func(p *rtp.Packet) {
		t0 := time.Now()
		toAgent.write(callerSrc, p, 0)
		d := time.Since(t0)
		mu.Lock()
		*delays = append(*delays, d)
		mu.Unlock()
	})
	return br, offer, nil
}

func nextLine(tb testing.TB, s *bufio.Scanner, word string) []string {
	tb.Helper()
	for s.Scan() {
		if f := strings.Fields(s.Text()); len(f) > 0 && f[0] == word {
			return f
		}
	}
	tb.Fatalf("the far end stopped before %q: %v", word, s.Err())
	return nil
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestBridgeFarEnd is the benchmark's child process (it does nothing in
// an ordinary test run).
func TestBridgeFarEnd(t *testing.T) {
	if os.Getenv("BRIDGE_FAREND") == "" {
		t.Skip("the far end of BenchmarkBridge")
	}
	runFarEnd(t, os.Stdin, os.Stdout)
}

// farCall is one call's far ends: the caller's socket and the agent's peer.
type farCall struct {
	caller *net.UDPConn
	engine *net.UDPAddr
	agent  *webrtc.PeerConnection
	track  *webrtc.TrackLocalStaticRTP

	mu                sync.Mutex
	atAgent, atCaller dsp.RecvStats
	seq               uint16
	sent, dropped     uint64
}

func runFarEnd(t *testing.T, stdin io.Reader, stdout io.Writer) {
	m := &webrtc.MediaEngine{}
	m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0}, webrtc.RTPCodecTypeAudio)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(SettingEngine(net.IPv4(127, 0, 0, 1), "", 0, 0)))
	var calls []*farCall
	var wmu sync.Mutex
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 4 && f[0] == "call":
			port, _ := strconv.Atoi(f[2])
			offer, _ := base64.StdEncoding.DecodeString(f[3])
			fc, answer, err := newFarCall(api, port, string(offer))
			if err != nil {
				t.Fatal(err)
			}
			calls = append(calls, fc)
			wmu.Lock()
			fmt.Fprintf(stdout, "answer %s %d %s\n", f[1], fc.caller.LocalAddr().(*net.UDPAddr).Port, base64.StdEncoding.EncodeToString([]byte(answer)))
			wmu.Unlock()
		case len(f) == 3 && f[0] == "run":
			seconds, _ := strconv.Atoi(f[1])
			loss, _ := strconv.ParseFloat(f[2], 64)
			r := runCalls(calls, seconds, loss)
			b, _ := json.Marshal(r)
			fmt.Fprintf(stdout, "result %s\n", b)
		case len(f) == 1 && f[0] == "quit":
			return
		}
	}
}

func newFarCall(api *webrtc.API, enginePort int, offer string) (*farCall, string, error) {
	fc := &farCall{engine: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: enginePort}}
	var err error
	if fc.caller, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		return nil, "", err
	}
	go func() {
		buf := make([]byte, 1500)
		var p rtp.Packet
		for {
			n, _, err := fc.caller.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if p.Unmarshal(buf[:n]) == nil {
				fc.mu.Lock()
				fc.atCaller.Add(p.SequenceNumber, p.Timestamp, time.Now())
				fc.mu.Unlock()
			}
		}
	}()
	if fc.agent, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return nil, "", err
	}
	if err := fc.agent.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return nil, "", err
	}
	fc.track, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, "a", "a")
	sender, err := fc.agent.AddTrack(fc.track)
	if err != nil {
		return nil, "", err
	}
	go drainRTCP(sender)
	fc.agent.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		go func() {
			buf := make([]byte, 1500)
			var p rtp.Packet
			for {
				n, _, err := tr.Read(buf)
				if err != nil {
					return
				}
				if p.Unmarshal(buf[:n]) == nil {
					fc.mu.Lock()
					fc.atAgent.Add(p.SequenceNumber, p.Timestamp, time.Now())
					fc.mu.Unlock()
				}
			}
		}()
	})
	answer, err := fc.agent.CreateAnswer(nil)
	if err != nil {
		return nil, "", err
	}
	gathered := webrtc.GatheringCompletePromise(fc.agent)
	fc.agent.SetLocalDescription(answer)
	<-gathered
	return fc, fc.agent.LocalDescription().SDP, nil
}

// runCalls sends 20 ms packets both ways on every call, each call paced by
// its own ticker, and reports what arrived.
func runCalls(calls []*farCall, seconds int, loss float64) farResult {
	payload := dsp.Encode(nil, 0, make([]int16, dsp.FrameSamples))
	var wg sync.WaitGroup
	for _, fc := range calls {
		fc.mu.Lock()
		fc.atAgent, fc.atCaller, fc.sent, fc.dropped = dsp.RecvStats{}, dsp.RecvStats{}, 0, 0
		fc.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(rand.Int64N(int64(20 * time.Millisecond)))) // spread the calls over the 20 ms
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			buf := make([]byte, 1500)
			for i := 0; i < seconds*50; i++ {
				<-tick.C
				fc.mu.Lock()
				seq := fc.seq
				fc.seq++
				fc.sent++
				drop := loss > 0 && rand.Float64() < loss
				if drop {
					fc.dropped++
				}
				fc.mu.Unlock()
				ts := uint32(i * dsp.FrameSamples)
				if !drop {
					p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: ts, SSRC: 1}, Payload: payload}
					n, _ := p.MarshalTo(buf)
					fc.caller.WriteToUDP(buf[:n], fc.engine)
				}
				fc.track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: ts}, Payload: payload})
			}
		}()
	}
	wg.Wait()
	time.Sleep(300 * time.Millisecond) // the last packets land
	var r farResult
	var rtts []float64
	for _, fc := range calls {
		fc.mu.Lock()
		r.Sent += fc.sent
		r.Dropped += fc.dropped
		r.AtAgent += fc.atAgent.Received()
		r.AtCaller += fc.atCaller.Received()
		r.JitterMs += fc.atAgent.JitterMs()
		fc.mu.Unlock()
	}
	r.JitterMs /= float64(len(calls))
	for _, s := range calls[0].agent.GetStats() {
		if p, ok := s.(webrtc.ICECandidatePairStats); ok && p.Nominated && p.CurrentRoundTripTime > 0 {
			rtts = append(rtts, p.CurrentRoundTripTime*1000)
		}
	}
	if len(rtts) > 0 {
		r.RTTMs = rtts[0]
	}
	return r
}
