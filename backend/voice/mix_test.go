package voice

import (
	"math"
	"testing"
	"time"

	"github.com/pion/rtp"

	"switchboard/backend"
	"switchboard/backend/voice/dsp"
)

// A party's queue in the mixer keeps the newest frames, in order, decodes
// either G.711 law, pads a short packet with silence and gives silence
// when empty.
func TestMixQueue_KeepsTheNewestFramesInOrder(t *testing.T) {
	var q mixQueue
	frame := func(v int16) []int16 {
		f := make([]int16, dsp.FrameSamples)
		for i := range f {
			f[i] = v
		}
		return f
	}
	for i, v := range []int16{1000, 2000, 3000, 4000} { // one more than the queue holds
		pt := uint8(dsp.PayloadPCMU)
		if i%2 == 1 {
			pt = dsp.PayloadPCMA
		}
		q.push(pt, dsp.Encode(nil, pt, frame(v)))
	}
	q.push(dsp.PayloadPCMU, dsp.Encode(nil, dsp.PayloadPCMU, frame(5000)[:80]))
	var got [dsp.FrameSamples]int16
	for _, want := range []int16{3000, 4000, 5000} {
		q.pop(&got)
		if d := int(got[0]) - int(want); d < -200 || d > 200 {
			t.Fatalf("frame starts with %d, want about %d", got[0], want)
		}
	}
	if got[80] != 0 || got[159] != 0 {
		t.Fatalf("a short packet's frame is not padded with silence: %d, %d", got[80], got[159])
	}
	got[0] = 7
	q.pop(&got)
	if got != [dsp.FrameSamples]int16{} {
		t.Fatal("an empty queue gave sound, not silence")
	}
}

func TestMix_SaturatesAndMapsModes(t *testing.T) {
	for _, tc := range []struct {
		in   int32
		want int16
	}{{30000 + 30000, math.MaxInt16}, {-30000 - 30000, math.MinInt16}, {1200 - 200, 1000}} {
		if got := saturate(tc.in); got != tc.want {
			t.Fatalf("saturate(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
	for mode, want := range map[string]int32{backend.MonitorListen: mixListen, backend.MonitorWhisper: mixWhisper, backend.MonitorBarge: mixBarge} {
		if got := mixMode(mode); got != want || !backend.ValidMonitorMode(mode) {
			t.Fatalf("mode %s = %d, want %d", mode, got, want)
		}
	}
	if backend.ValidMonitorMode("shout") {
		t.Fatal("an unknown mode is valid")
	}
}

// BenchmarkMixer is one 20 ms step of a call with a supervisor barging in
// (the costliest mode: three listeners, each hearing two parties): every
// party's packet decoded into the mixer, three mixes encoded and sent.
func BenchmarkMixer(b *testing.B) {
	c := &call{mixSrc: newSourceID(), out: &outStream{sink: &discard{}}}
	a := &agentSide{src: newSourceID(), out: &outStream{sink: &discard{}}}
	sup := &agentSide{supervisor: true, out: &outStream{sink: &discard{}}}
	c.a.Store(a)
	m := &mixer{c: c, sup: sup, src: c.mixSrc}
	m.mode.Store(mixBarge)
	c.out.setSource(m.src)
	a.out.setSource(m.src)
	sup.out.setSource(m.src)
	tone := make([]int16, dsp.FrameSamples)
	(&dsp.Tone{Freq: 440}).Fill(tone)
	p := pkt(1, 0, dsp.PayloadPCMU)
	p.Payload = dsp.Encode(nil, dsp.PayloadPCMU, tone)
	f := newMixFrame()
	b.ReportAllocs()
	for b.Loop() {
		for party := range mixInputs {
			m.add(party, p)
		}
		m.mixOnce(f)
	}
	b.ReportMetric(100*float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(20*time.Millisecond), "%core/monitored-call")
}

// discard is a sink that drops what it is sent.
type discard struct{}

func (discard) writeRTP(*rtp.Packet) error { return nil }
