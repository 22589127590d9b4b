package voice

import (
	"bufio"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/dtls/v2"
	"github.com/pion/dtls/v2/pkg/crypto/fingerprint"
	"github.com/pion/dtls/v2/pkg/crypto/selfsign"
	"github.com/pion/ice/v2"
	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v2"
	"golang.org/x/net/ipv4"

	"switchboard/backend/voice/dsp"
)

// The benchmark's far end is as cheap as the engine's real legs allow, so
// the machine's cores go to the engine. Every caller shares one UDP socket
// and every agent another; one goroutine paces all streams and sends each
// 2 ms slot's packets with one sendmmsg per socket; one goroutine per
// socket reads with recvmmsg. An agent is no WebRTC stack: per call it does
// the real handshake the engine's pion peer demands (ICE through a pion
// agent on the shared socket, DTLS with pion/dtls), then encrypts its RTP
// with the negotiated SRTP keys itself. It reads the engine's packets from
// their clear RTP headers without decrypting them (only sequence numbers
// and timestamps are counted).

// farEnd is the benchmark's child process: every call's caller and agent.
type farEnd struct {
	callers, agents      *net.UDPConn
	callerPC, agentPC    *ipv4.PacketConn
	mux                  *ice.UDPMuxDefault
	cert                 tls.Certificate
	fingerprint          string
	mu                   sync.Mutex
	byLegPort, byICEPort map[int]*farCall
	calls                []*farCall
	ready                sync.WaitGroup
	failed               chan error
}

// farCall is one call's far ends.
type farCall struct {
	leg   *net.UDPAddr // the engine's SIP leg
	peer  *net.UDPAddr // the engine's WebRTC leg, as ICE chose it
	agent *ice.Agent
	dtls  *dtls.Conn
	srtp  *srtp.Context
	ssrc  uint32

	mu                sync.Mutex
	atAgent, atCaller dsp.RecvStats
	seq               uint16
	sent, dropped     uint64
}

func newFarEnd() (*farEnd, error) {
	f := &farEnd{byLegPort: map[int]*farCall{}, byICEPort: map[int]*farCall{}, failed: make(chan error, 1)}
	var err error
	lo := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	if f.callers, err = net.ListenUDP("udp4", lo); err != nil {
		return nil, err
	}
	if f.agents, err = net.ListenUDP("udp4", lo); err != nil {
		return nil, err
	}
	for _, c := range []*net.UDPConn{f.callers, f.agents} {
		bigBuffers(c)
	}
	f.callerPC, f.agentPC = ipv4.NewPacketConn(f.callers), ipv4.NewPacketConn(f.agents)
	logger := logging.NewDefaultLoggerFactory().NewLogger("ice")
	f.mux = ice.NewUDPMuxDefault(ice.UDPMuxParams{Logger: logger, UDPConn: &srtpTap{UDPConn: f.agents, f: f, msgs: batch(64)}})
	if f.cert, err = selfsign.GenerateSelfSigned(); err != nil {
		return nil, err
	}
	x, err := x509.ParseCertificate(f.cert.Certificate[0])
	if err != nil {
		return nil, err
	}
	if f.fingerprint, err = fingerprint.Fingerprint(x, crypto.SHA256); err != nil {
		return nil, err
	}
	go f.readCallers()
	return f, nil
}

// bigBuffers gives a socket that every call shares 32 MB buffers, so the
// far end's own reader falling behind on a busy machine does not drop the
// engine's packets: SO_RCVBUFFORCE when the process may (root), else up to
// the system's maximum.
func bigBuffers(c *net.UDPConn) {
	c.SetReadBuffer(32 << 20)
	c.SetWriteBuffer(32 << 20)
	if raw, err := c.SyscallConn(); err == nil {
		raw.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 32<<20)
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUFFORCE, 32<<20)
		})
	}
}

func batch(n int) []ipv4.Message {
	msgs := make([]ipv4.Message, n)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 1500)}
	}
	return msgs
}

// readCallers counts what the callers hear: the engine's SIP legs send to
// the one callers' socket, each from its own port.
func (f *farEnd) readCallers() {
	msgs := batch(64)
	var h rtp.Header
	for {
		n, err := f.callerPC.ReadBatch(msgs, 0)
		if err != nil {
			return
		}
		now := time.Now()
		for _, m := range msgs[:n] {
			f.mu.Lock()
			fc := f.byLegPort[m.Addr.(*net.UDPAddr).Port]
			f.mu.Unlock()
			if _, err := h.Unmarshal(m.Buffers[0][:m.N]); fc != nil && err == nil {
				fc.mu.Lock()
				fc.atCaller.Add(h.SequenceNumber, h.Timestamp, now)
				fc.mu.Unlock()
			}
		}
	}
}

// srtpTap is the agents' socket as the ICE mux sees it: it reads in
// batches, counts SRTP packets from the engine itself and passes the rest
// (STUN, DTLS) to the mux.
type srtpTap struct {
	*net.UDPConn
	f    *farEnd
	msgs []ipv4.Message
	n, i int
}

// ReadFrom implements net.PacketConn for the mux's one reading goroutine.
func (t *srtpTap) ReadFrom(b []byte) (int, net.Addr, error) {
	var h rtp.Header
	for {
		if t.i >= t.n {
			n, err := t.f.agentPC.ReadBatch(t.msgs, 0)
			if err != nil {
				return 0, nil, err
			}
			t.n, t.i = n, 0
		}
		m := &t.msgs[t.i]
		t.i++
		data := m.Buffers[0][:m.N]
		if len(data) < 12 || data[0] < 128 || data[0] > 191 {
			return copy(b, data), m.Addr, nil
		}
		if pt := data[1] & 0x7f; pt >= 72 && pt <= 79 {
			continue // SRTCP: the engine's reports
		}
		t.f.mu.Lock()
		fc := t.f.byICEPort[m.Addr.(*net.UDPAddr).Port]
		t.f.mu.Unlock()
		if _, err := h.Unmarshal(data); fc != nil && err == nil {
			fc.mu.Lock()
			fc.atAgent.Add(h.SequenceNumber, h.Timestamp, time.Now())
			fc.mu.Unlock()
		}
	}
}

// run sends 20 ms packets both ways on every call and reports what
// arrived. One goroutine paces every stream against absolute deadlines, the
// calls spread over ten 2 ms slots of each 20 ms; each slot's packets go
// out in one sendmmsg per socket.
func (f *farEnd) run(seconds int, loss float64) (farResult, error) {
	f.ready.Wait()
	select {
	case err := <-f.failed:
		return farResult{}, err
	default:
	}
	calls := f.calls
	for _, fc := range calls {
		fc.mu.Lock()
		fc.atAgent, fc.atCaller, fc.sent, fc.dropped = dsp.RecvStats{}, dsp.RecvStats{}, 0, 0
		fc.mu.Unlock()
	}
	const slots = 10
	toLegs, toPeers := batch(len(calls)/slots+1), batch(len(calls)/slots+1)
	plain := make([]byte, 1500)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0}, Payload: dsp.Encode(nil, 0, make([]int16, dsp.FrameSamples))}
	cpu0, drops0 := cpuTime(), socketDrops(f.callers, f.agents)
	start := time.Now()
	for i := 0; i < seconds*50; i++ {
		for slot := 0; slot < slots; slot++ {
			time.Sleep(time.Until(start.Add(time.Duration(i*slots+slot) * 2 * time.Millisecond)))
			nl, np := 0, 0
			for j := slot; j < len(calls); j += slots {
				fc := calls[j]
				fc.mu.Lock()
				pkt.SequenceNumber, pkt.Timestamp, pkt.SSRC = fc.seq, uint32(i*dsp.FrameSamples), fc.ssrc
				fc.seq++
				fc.sent++
				drop := loss > 0 && rand.Float64() < loss
				if drop {
					fc.dropped++
				}
				fc.mu.Unlock()
				n, _ := pkt.MarshalTo(plain)
				if !drop {
					m := &toLegs[nl]
					m.N = copy(m.Buffers[0][:cap(m.Buffers[0])], plain[:n])
					m.Buffers[0], m.Addr = m.Buffers[0][:m.N], fc.leg
					nl++
				}
				out := append(toPeers[np].Buffers[0][:0], plain[:n]...)
				if fc.srtp != nil {
					var err error
					if out, err = fc.srtp.EncryptRTP(out[:0], plain[:n], nil); err != nil {
						return farResult{}, err
					}
				}
				toPeers[np].Buffers[0], toPeers[np].Addr = out, fc.peer
				np++
			}
			if err := writeAll(f.callerPC, toLegs[:nl]); err != nil {
				return farResult{}, err
			}
			if err := writeAll(f.agentPC, toPeers[:np]); err != nil {
				return farResult{}, err
			}
		}
	}
	sending := time.Since(start)
	// The run ends when nothing more arrives for 300 ms (at most 10 s): a
	// packet the engine relays late is counted late, not lost.
	var r farResult
	for last, quiet := ^uint64(0), time.Now(); time.Since(quiet) < 300*time.Millisecond && time.Since(start) < sending+10*time.Second; {
		time.Sleep(20 * time.Millisecond)
		r = f.tally()
		if got := r.AtAgent + r.AtCaller; got != last {
			last, quiet = got, time.Now()
		}
	}
	r.CPUSeconds, r.SendSeconds = (cpuTime() - cpu0).Seconds(), sending.Seconds()
	r.FarEndDrops = socketDrops(f.callers, f.agents) - drops0
	if calls[0].agent == nil {
		return r, nil
	}
	for _, p := range calls[0].agent.GetCandidatePairsStats() {
		if p.Nominated && p.CurrentRoundTripTime > 0 {
			r.RTTMs = p.CurrentRoundTripTime * 1000
		}
	}
	return r, nil
}

// tally sums what every call sent and heard.
func (f *farEnd) tally() farResult {
	var r farResult
	for _, fc := range f.calls {
		fc.mu.Lock()
		r.Sent += fc.sent
		r.Dropped += fc.dropped
		r.AtAgent += fc.atAgent.Received()
		r.AtCaller += fc.atCaller.Received()
		r.JitterMs += fc.atAgent.JitterMs()
		fc.mu.Unlock()
	}
	r.JitterMs /= float64(len(f.calls))
	return r
}

// socketDrops is how many datagrams the kernel dropped for a full receive
// buffer on these loopback sockets (the drops column of /proc/net/udp).
func socketDrops(conns ...*net.UDPConn) uint64 {
	data, _ := os.ReadFile("/proc/net/udp")
	var n uint64
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 13 {
			continue
		}
		for _, c := range conns {
			if f[1] == fmt.Sprintf("0100007F:%04X", c.LocalAddr().(*net.UDPAddr).Port) {
				d, _ := strconv.ParseUint(f[len(f)-1], 10, 64)
				n += d
			}
		}
	}
	return n
}

// writeAll sends a batch with as many sendmmsg calls as it takes.
func writeAll(pc *ipv4.PacketConn, msgs []ipv4.Message) error {
	for len(msgs) > 0 {
		n, err := pc.WriteBatch(msgs, 0)
		if err != nil {
			return err
		}
		msgs = msgs[n:]
	}
	return nil
}

func runFarEnd(t *testing.T, stdin io.Reader, stdout io.Writer) {
	f, err := newFarEnd()
	if err != nil {
		t.Fatal(err)
	}
	if path := os.Getenv("BRIDGE_FAREND_PROFILE"); path != "" {
		out, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		pprof.StartCPUProfile(out)
		defer pprof.StopCPUProfile()
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		switch {
		case len(fs) == 4 && fs[0] == "call":
			port, _ := strconv.Atoi(fs[2])
			offer, _ := base64.StdEncoding.DecodeString(fs[3])
			answer, err := f.call(port, string(offer))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(stdout, "answer %s %d %s\n", fs[1], f.callers.LocalAddr().(*net.UDPAddr).Port, base64.StdEncoding.EncodeToString([]byte(answer)))
		case len(fs) == 3 && fs[0] == "run":
			seconds, _ := strconv.Atoi(fs[1])
			loss, _ := strconv.ParseFloat(fs[2], 64)
			r, err := f.run(seconds, loss)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(r)
			fmt.Fprintf(stdout, "result %s\n", b)
		case len(fs) == 1 && fs[0] == "quit":
			return
		}
	}
}
