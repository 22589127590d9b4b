package voice

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/pion/rtp"

	"switchboard/backend/voice/dsp"
)

// player sends audio (a prompt, hold music or a beep) into an outStream,
// one 20 ms packet at a time, paced by the wall clock.
type player struct {
	id   int
	out  *outStream
	pcm  []int16
	loop bool
	stop chan struct{}
	once sync.Once
	done chan struct{}
}

// play starts a player; done is called (in the player's goroutine) when it
// reached the end of a non-looping prompt, not when it was stopped.
func play(out *outStream, pcm []int16, loop bool, done func()) *player {
	p := &player{id: newSourceID(), out: out, pcm: pcm, loop: loop, stop: make(chan struct{}), done: make(chan struct{})}
	out.setSource(p.id)
	go p.run(done)
	return p
}

func (p *player) run(done func()) {
	defer close(p.done)
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: p.out.audioPT, SequenceNumber: uint16(time.Now().UnixNano())}}
	payload := make([]byte, 0, dsp.FrameSamples)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	pos := 0
	for {
		if pos >= len(p.pcm) {
			if !p.loop || len(p.pcm) == 0 {
				if done != nil {
					done()
				}
				return
			}
			pos = 0
		}
		end := min(pos+dsp.FrameSamples, len(p.pcm))
		frame := p.pcm[pos:end]
		pos = end
		payload = dsp.Encode(payload[:0], p.out.audioPT, frame)
		for len(payload) < dsp.FrameSamples { // pad the last frame with silence
			payload = dsp.Encode(payload, p.out.audioPT, []int16{0})
		}
		pkt.Payload = payload
		p.out.write(p.id, pkt, 0)
		pkt.SequenceNumber++
		pkt.Timestamp += dsp.FrameSamples
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
	}
}

// halt stops the player and waits for it.
func (p *player) halt() {
	if p == nil {
		return
	}
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

// holdMusic is the default music on hold: a soft two-tone chime.
func holdMusic() []int16 {
	pcm := make([]int16, 0, 2*dsp.SampleRate)
	for _, f := range []float64{523.25, 659.25, 783.99, 659.25} {
		t := dsp.Tone{Freq: f, Amplitude: 3000}
		buf := make([]int16, dsp.SampleRate/2-dsp.SampleRate/10)
		t.Fill(buf)
		pcm = append(pcm, buf...)
		pcm = append(pcm, make([]int16, dsp.SampleRate/10)...)
	}
	return pcm
}

// beep is the tone before a voicemail recording.
func beep() []int16 {
	t := dsp.Tone{Freq: 1000, Amplitude: 6000}
	pcm := make([]int16, dsp.SampleRate/2)
	t.Fill(pcm)
	return pcm
}

// RFC 4733 telephone events: digit ↔ event code.
const dtmfDigits = "0123456789*#ABCD"

func dtmfEvent(d byte) (byte, bool) {
	for i := 0; i < len(dtmfDigits); i++ {
		if dtmfDigits[i] == d {
			return byte(i), true
		}
	}
	return 0, false
}

// dtmfReceiver turns RFC 4733 packets into digits: one digit per event
// (by its RTP timestamp), however many packets and end retransmissions
// carry it.
type dtmfReceiver struct {
	lastTS  uint32
	seen    bool
	started bool
}

// feed returns the digit a packet starts, if any.
func (r *dtmfReceiver) feed(p *rtp.Packet) (byte, bool) {
	if len(p.Payload) < 4 || p.Payload[0] >= byte(len(dtmfDigits)) {
		return 0, false
	}
	if r.started && p.Timestamp == r.lastTS {
		return 0, false
	}
	r.started, r.lastTS = true, p.Timestamp
	return dtmfDigits[p.Payload[0]], true
}

// dtmfPackets returns the RFC 4733 packets of one digit lasting 100 ms:
// five updates (the first with the marker bit) and three copies of the end.
func dtmfPackets(digit byte, pt uint8, seq uint16, ts uint32) []*rtp.Packet {
	ev, ok := dtmfEvent(digit)
	if !ok {
		return nil
	}
	var out []*rtp.Packet
	for i := 1; i <= 8; i++ {
		dur := uint16(min(i, 5) * dsp.FrameSamples)
		flags := byte(10) // volume -10 dBm0
		if i >= 5 {
			flags |= 0x80 // end
		}
		payload := make([]byte, 4)
		payload[0], payload[1] = ev, flags
		binary.BigEndian.PutUint16(payload[2:], dur)
		out = append(out, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, Marker: i == 1,
			SequenceNumber: seq + uint16(i-1), Timestamp: ts}, Payload: payload})
	}
	return out
}
