package voice

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"switchboard/backend"
	"switchboard/backend/voice/dsp"
)

// The parties a mixer hears.
const (
	inCaller = iota
	inAgent
	inSupervisor
	mixInputs
)

// mixDepth bounds each party's queue in the mixer (60 ms): older frames
// are dropped, so mixing never adds more delay than that.
const mixDepth = 3

// Monitor modes as the mixer keeps them.
const (
	mixListen int32 = iota
	mixWhisper
	mixBarge
)

func mixMode(mode string) int32 {
	switch mode {
	case backend.MonitorWhisper:
		return mixWhisper
	case backend.MonitorBarge:
		return mixBarge
	}
	return mixListen
}

// mixQueue is one party's decoded frames waiting to be mixed.
type mixQueue struct {
	frames  [mixDepth][dsp.FrameSamples]int16
	head, n int
}

// push decodes one G.711 packet into the queue, dropping the oldest frame
// when full.
func (q *mixQueue) push(pt uint8, payload []byte) {
	if q.n == mixDepth {
		q.head = (q.head + 1) % mixDepth
		q.n--
	}
	f := &q.frames[(q.head+q.n)%mixDepth]
	got := dsp.Decode(f[:0], pt, payload[:min(len(payload), dsp.FrameSamples)])
	clear(f[len(got):])
	q.n++
}

// pop moves the oldest frame to dst; without one, dst is silence.
func (q *mixQueue) pop(dst *[dsp.FrameSamples]int16) {
	if q.n == 0 {
		clear(dst[:])
		return
	}
	*dst = q.frames[q.head]
	q.head = (q.head + 1) % mixDepth
	q.n--
}

// mixer carries a call with a supervisor on it. Every 20 ms it takes one
// frame from each party (G.711 decoded) and sends each listener the sum of
// the parties they hear, encoded again: the supervisor hears the caller and
// the agent; in whisper and barge the agent hears the caller and the
// supervisor; in barge the caller hears the agent and the supervisor. A
// stream that hears only one party stays on the pass-through relay
// (outStream), untouched.
type mixer struct {
	c    *call
	sup  *agentSide
	src  int // the mixer's source id on the streams it feeds
	mode atomic.Int32

	mu sync.Mutex
	q  [mixInputs]mixQueue

	stop chan struct{}
	done chan struct{}
}

func newMixer(c *call, sup *agentSide, mode string) *mixer {
	m := &mixer{c: c, sup: sup, src: c.mixSrc, stop: make(chan struct{}), done: make(chan struct{})}
	m.mode.Store(mixMode(mode))
	go m.run()
	return m
}

// add queues one audio packet from a party.
func (m *mixer) add(party int, p *rtp.Packet) {
	if p.PayloadType != dsp.PayloadPCMU && p.PayloadType != dsp.PayloadPCMA {
		return
	}
	m.mu.Lock()
	m.q[party].push(p.PayloadType, p.Payload)
	m.mu.Unlock()
}

func (m *mixer) run() {
	defer close(m.done)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	f := newMixFrame()
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
		}
		m.mixOnce(f)
	}
}

// mixFrame is the mixer goroutine's working memory, kept between ticks.
type mixFrame struct {
	pkt *rtp.Packet
	buf []byte
	in  [mixInputs][dsp.FrameSamples]int16
	sum [dsp.FrameSamples]int16
}

func newMixFrame() *mixFrame {
	return &mixFrame{pkt: &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(time.Now().UnixNano())}},
		buf: make([]byte, 0, dsp.FrameSamples)}
}

// mixOnce takes one frame from each party and sends every listener their
// mix: one 20 ms step.
func (m *mixer) mixOnce(f *mixFrame) {
	m.mu.Lock()
	for i := range f.in {
		m.q[i].pop(&f.in[i])
	}
	m.mu.Unlock()
	mode := m.mode.Load()
	m.send(f, m.sup.out, inCaller, inAgent)
	if a := m.c.a.Load(); a != nil && mode != mixListen {
		m.send(f, a.out, inCaller, inSupervisor)
	}
	if mode == mixBarge {
		m.send(f, m.c.out, inAgent, inSupervisor)
		if r := m.c.recorder.Load(); r != nil && m.c.out.source() == m.src {
			r.add(1, f.pkt)
		}
	}
	f.pkt.SequenceNumber++
	f.pkt.Timestamp += dsp.FrameSamples
}

// send encodes the sum of two parties' frames for one listener's stream.
func (m *mixer) send(f *mixFrame, out *outStream, a, b int) {
	for i := range f.sum {
		f.sum[i] = saturate(int32(f.in[a][i]) + int32(f.in[b][i]))
	}
	f.pkt.PayloadType = out.audioPT
	f.pkt.Payload = dsp.Encode(f.buf[:0], out.audioPT, f.sum[:])
	out.write(m.src, f.pkt, 0)
}

// halt stops the mixer and waits for it.
func (m *mixer) halt() {
	close(m.stop)
	<-m.done
}

func saturate(v int32) int16 {
	return int16(max(math.MinInt16, min(math.MaxInt16, v)))
}
