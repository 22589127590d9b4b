package dsp

import (
	"math"
	"time"
)

// Quality is a call leg's live quality as the softphone shows it.
type Quality struct {
	// JitterMs is the RFC 3550 interarrival jitter in milliseconds.
	JitterMs float64 `json:"jitterMs"`
	// LossPercent is the share of packets lost, 0..100.
	LossPercent float64 `json:"lossPercent"`
	// RTTMs is the round-trip time from RTCP reports (0 until known).
	RTTMs float64 `json:"rttMs"`
	// MOS is the E-model estimate, 1..4.5.
	MOS float64 `json:"mos"`
	// Warnings name the figures past Twilio's thresholds: "rtt", "jitter",
	// "loss", "mos".
	Warnings []string `json:"warnings"`
}

// Twilio's call-quality warning thresholds.
const (
	WarnRTTMs       = 400
	WarnJitterMs    = 30
	WarnLossPercent = 3
	WarnMOS         = 3.5
)

// Judge fills in the MOS estimate and the warnings from the other figures.
func (q *Quality) Judge() {
	q.MOS = MOS(q.RTTMs, q.JitterMs, q.LossPercent)
	q.Warnings = q.Warnings[:0]
	if q.RTTMs > WarnRTTMs {
		q.Warnings = append(q.Warnings, "rtt")
	}
	if q.JitterMs > WarnJitterMs {
		q.Warnings = append(q.Warnings, "jitter")
	}
	if q.LossPercent > WarnLossPercent {
		q.Warnings = append(q.Warnings, "loss")
	}
	if q.MOS < WarnMOS {
		q.Warnings = append(q.Warnings, "mos")
	}
}

// MOS estimates the mean opinion score of a G.711 call with the ITU-T
// G.107 E-model (simplified as commonly done for VoIP monitoring): the
// one-way delay is half the round trip plus twice the jitter (a jitter
// buffer) plus 10 ms of codec delay; random loss impairs G.711 with packet
// loss concealment by Bpl = 25.1 (G.113 Appendix I).
func MOS(rttMs, jitterMs, lossPercent float64) float64 {
	d := rttMs/2 + 2*jitterMs + 10
	id := 0.024 * d
	if d > 177.3 {
		id += 0.11 * (d - 177.3)
	}
	const bpl = 25.1
	ie := 95 * lossPercent / (lossPercent + bpl)
	r := 93.2 - id - ie
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	return 1 + 0.035*r + r*(r-60)*(100-r)*7e-6
}

// RecvStats tracks received RTP packets of one stream: loss from sequence
// numbers and RFC 3550 interarrival jitter from arrival times.
type RecvStats struct {
	started  bool
	baseSeq  uint32
	maxSeq   uint32 // extended
	received uint64
	transit  float64
	jitter   float64 // in timestamp units
}

// Add records one packet's sequence number, RTP timestamp (8 kHz clock)
// and arrival time.
func (s *RecvStats) Add(seq uint16, ts uint32, at time.Time) {
	arrival := float64(at.UnixNano()) * SampleRate / 1e9
	transit := arrival - float64(ts)
	if !s.started {
		s.started, s.baseSeq, s.maxSeq, s.transit = true, uint32(seq), uint32(seq), transit
		s.received = 1
		return
	}
	s.received++
	ext := s.maxSeq&^0xffff | uint32(seq)
	switch {
	case ext+0x8000 < s.maxSeq:
		ext += 0x10000
	case ext > s.maxSeq+0x8000 && ext >= 0x10000:
		ext -= 0x10000
	}
	if ext > s.maxSeq {
		s.maxSeq = ext
	}
	d := math.Abs(transit - s.transit)
	s.transit = transit
	s.jitter += (d - s.jitter) / 16
}

// Expected returns how many packets should have arrived so far.
func (s *RecvStats) Expected() uint64 {
	if !s.started {
		return 0
	}
	return uint64(s.maxSeq-s.baseSeq) + 1
}

// Received returns how many packets arrived.
func (s *RecvStats) Received() uint64 { return s.received }

// LossPercent returns the share of expected packets that never arrived.
func (s *RecvStats) LossPercent() float64 {
	if !s.started {
		return 0
	}
	expected := float64(s.maxSeq-s.baseSeq) + 1
	lost := expected - float64(s.received)
	if lost <= 0 {
		return 0
	}
	return 100 * lost / expected
}

// JitterMs returns the interarrival jitter in milliseconds.
func (s *RecvStats) JitterMs() float64 { return s.jitter * 1000 / SampleRate }
