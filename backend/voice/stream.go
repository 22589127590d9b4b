package voice

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// sink is where one leg's outgoing packets go: the SIP leg's UDP socket or
// a WebRTC track.
type sink interface {
	writeRTP(p *rtp.Packet) error
}

// outStream is one leg's outgoing RTP stream. Several sources feed it over
// a call (prompts, hold music, an agent, another agent); only the current
// source's packets pass. Sequence numbers and timestamps stay continuous
// across a change of source, and gaps within one source (upstream loss)
// are kept, so the far end measures the real loss. Payloads are never
// touched: G.711 passes through.
type outStream struct {
	sink sink
	// audioPT and dtmfPT are the payload types the far end expects.
	audioPT, dtmfPT uint8
	// tap, when set, sees every packet that went out (the recording).
	tap atomic.Pointer[func(p *rtp.Packet)]

	mu       sync.Mutex
	src      int // the source allowed now (0: none)
	lastSrc  int
	seqOff   uint16
	tsOff    uint32
	lastSeq  uint16
	lastTS   uint32
	started  bool
	scratch  rtp.Packet
	sent     uint64
	lastSent int64 // source timestamp of the last write, for re-anchoring
}

// Source ids. Players and legs take ids from nextSource.
var nextSource atomic.Int64

func newSourceID() int { return int(nextSource.Add(1)) }

// setSource lets src's packets through from now on (0 silences the stream).
func (o *outStream) setSource(src int) {
	o.mu.Lock()
	o.src = src
	o.mu.Unlock()
}

// source returns the source allowed now.
func (o *outStream) source() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.src
}

// write sends p from src if src is the current source. srcDTMFPT is the
// telephone-event payload type on src's side (0: none); its packets are
// sent with the far end's telephone-event type, or dropped when it has none.
func (o *outStream) write(src int, p *rtp.Packet, srcDTMFPT uint8) error {
	o.mu.Lock()
	if src != o.src || src == 0 {
		o.mu.Unlock()
		return nil
	}
	pt := o.audioPT
	if srcDTMFPT != 0 && p.PayloadType == srcDTMFPT {
		if o.dtmfPT == 0 {
			o.mu.Unlock()
			return nil
		}
		pt = o.dtmfPT
	}
	if src != o.lastSrc || !o.started {
		// A new source: continue our numbering where the last one ended.
		if o.started {
			o.seqOff = o.lastSeq + 1 - p.SequenceNumber
			o.tsOff = o.lastTS + 160 - p.Timestamp
		} else {
			o.seqOff, o.tsOff = 0, 0
		}
		o.lastSrc, o.started = src, true
		o.scratch.Marker = true
	} else {
		o.scratch.Marker = p.Marker
	}
	h := &o.scratch
	h.Version, h.PayloadType = 2, pt
	h.SequenceNumber = p.SequenceNumber + o.seqOff
	h.Timestamp = p.Timestamp + o.tsOff
	h.SSRC = 0 // the sink sets its own
	h.Payload = p.Payload
	if int16(h.SequenceNumber-o.lastSeq) > 0 || o.sent == 0 {
		o.lastSeq = h.SequenceNumber
	}
	if int32(h.Timestamp-o.lastTS) > 0 || o.sent == 0 {
		o.lastTS = h.Timestamp
	}
	o.sent++
	err := o.sink.writeRTP(h)
	if tap := o.tap.Load(); tap != nil && pt == o.audioPT {
		(*tap)(h)
	}
	o.mu.Unlock()
	return err
}

// inject sends one DTMF digit (RFC 4733, 100 ms) into the stream between
// the current source's packets, paced at 20 ms, and shifts the source's
// numbering past it.
func (o *outStream) inject(digit byte, pt uint8) {
	o.mu.Lock()
	seq, ts := o.lastSeq+1, o.lastTS+160
	pkts := dtmfPackets(digit, pt, seq, ts)
	o.seqOff += uint16(len(pkts))
	o.lastSeq += uint16(len(pkts))
	o.mu.Unlock()
	for i, p := range pkts {
		o.mu.Lock()
		p.SSRC = 0
		o.sink.writeRTP(p)
		o.mu.Unlock()
		if i < 4 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(60 * time.Millisecond) // the gap before the next digit
}
