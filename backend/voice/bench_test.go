package voice

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
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
	// CPUSeconds is the far end's own CPU time over the run; SendSeconds
	// the wall time it took to send the run's packets.
	CPUSeconds, SendSeconds float64
	// FarEndDrops is how many datagrams the kernel dropped on the far
	// end's own sockets for full receive buffers.
	FarEndDrops uint64
}

// BenchmarkBridge relays G.711 both ways through BRIDGE_CALLS (default
// 100) bridged calls for BRIDGE_SECONDS (default 10) of audio while the
// callers' path drops BRIDGE_LOSS (0..1) of their packets at random. It
// reports loss, the engine's CPU per call, the delay the relay adds from
// reading a caller's packet to handing it, encrypted, to the agent's
// socket, and the MOS estimate at the agents. With BRIDGE_LEGS=rtp the
// agent's leg is a second SIP leg (plain RTP, as when a call is sent on to
// a number), so the relay loop is measured without pion's WebRTC path.
func BenchmarkBridge(b *testing.B) {
	calls := envInt("BRIDGE_CALLS", 100)
	plain := os.Getenv("BRIDGE_LEGS") == "rtp"
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
		br, offer, err := newBridge(e, plain, &mu, &delays)
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
		if plain {
			agents, _ := strconv.Atoi(strings.TrimPrefix(string(sdp), "rtp "))
			bridges[i].other.remote.Store(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: agents})
		} else if err := bridges[i].peer.setAnswer(string(sdp)); err != nil {
			b.Fatal(err)
		}
	}
	for _, br := range bridges {
		if br.peer == nil {
			continue
		}
		if err := br.peer.waitConnected(time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	defer func() {
		for _, br := range bridges {
			if br.peer != nil {
				br.peer.close()
			} else {
				br.other.close()
			}
			br.leg.close()
		}
	}()
	b.ResetTimer()
	for range b.N {
		mu.Lock()
		delays = delays[:0]
		mu.Unlock()
		cpu0, kdrops0 := cpuTime(), udpBufferDrops()
		fmt.Fprintf(in, "run %d %g\n", seconds, loss)
		f := nextLine(b, out, "result")
		cpu := cpuTime() - cpu0
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
		b.ReportMetric(100*r.CPUSeconds/float64(calls*seconds), "%core/call-far-end")
		b.ReportMetric(float64(r.Sent)/float64(calls*seconds*50), "sent/nominal")
		b.ReportMetric(r.SendSeconds/float64(seconds), "pacing")
		b.ReportMetric(float64(pct(0.5).Nanoseconds())/1000, "µs-p50")
		b.ReportMetric(float64(pct(0.99).Nanoseconds())/1000, "µs-p99")
		// Datagrams the kernel dropped for full receive buffers on the
		// whole machine during the run (the far end's, the engine's and
		// any other process's sockets).
		b.ReportMetric(float64(udpBufferDrops()-kdrops0), "kernel-drops")
		b.ReportMetric(float64(r.FarEndDrops), "kernel-drops-far-end")
		b.ReportMetric(r.JitterMs, "ms-jitter")
		b.ReportMetric(r.RTTMs, "ms-rtt")
		b.ReportMetric(dsp.MOS(r.RTTMs, r.JitterMs, lossAgent), "MOS")
	}
	fmt.Fprintln(in, "quit")
}

// bridge is the engine's side of one call: the SIP leg's RTP socket and
// the agent's WebRTC leg (or, with BRIDGE_LEGS=rtp, a second SIP leg),
// relaying to each other.
type bridge struct {
	leg   *rtpLeg
	peer  *peerLeg
	other *rtpLeg
}

// newBridge returns the engine's side of one call and what the far end
// needs for the agent's leg: the WebRTC offer, or "rtp <port>".
func newBridge(e *Engine, plain bool, mu *sync.Mutex, delays *[]time.Duration) (*bridge, string, error) {
	conn, err := listenRTP(net.IPv4(127, 0, 0, 1), 0, 0)
	if err != nil {
		return nil, "", err
	}
	br := &bridge{leg: newRTPLeg(conn)}
	callerSrc, agentSrc := newSourceID(), newSourceID()
	toCaller := &outStream{sink: br.leg, audioPT: dsp.PayloadPCMU}
	toCaller.setSource(agentSrc)
	var agent sink
	var offer string
	if plain {
		conn, err := listenRTP(net.IPv4(127, 0, 0, 1), 0, 0)
		if err != nil {
			return nil, "", err
		}
		br.other = newRTPLeg(conn)
		go br.other.run(func(p *rtp.Packet) { toCaller.write(agentSrc, p, 0) })
		agent, offer = br.other, fmt.Sprintf("rtp %d", br.other.port())
	} else {
		br.peer, offer, err = e.newPeer(context.Background(), dsp.PayloadPCMU, func(p *rtp.Packet, dt uint8) {
			toCaller.write(agentSrc, p, dt)
		}, nil)
		if err != nil {
			return nil, "", err
		}
		agent = br.peer
	}
	toAgent := &outStream{sink: agent, audioPT: dsp.PayloadPCMU}
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

// udpBufferDrops is the kernel's count of UDP datagrams dropped because a
// socket's receive buffer was full (RcvbufErrors in /proc/net/snmp).
func udpBufferDrops() uint64 {
	data, _ := os.ReadFile("/proc/net/snmp")
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				v, _ := strconv.ParseUint(f[i], 10, 64)
				return v
			}
		}
	}
	return 0
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
