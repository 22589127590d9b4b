// Package dsp holds the small signal-processing pieces voice needs on both
// sides of a call: G.711 sample conversion, a tone generator, Goertzel tone
// detection, WAV files, RTP receive statistics and the E-model MOS
// estimate. It has no state shared between calls.
package dsp

import (
	"math"

	"github.com/zaf/g711"
)

// SampleRate is G.711's sample rate; FrameSamples is one 20 ms packet.
const (
	SampleRate   = 8000
	FrameSamples = 160
)

// RTP payload types of G.711 (static, RFC 3551).
const (
	PayloadPCMU = 0
	PayloadPCMA = 8
)

// Decode turns G.711 bytes of payload type pt into samples, appending to dst.
func Decode(dst []int16, pt uint8, payload []byte) []int16 {
	for _, b := range payload {
		if pt == PayloadPCMA {
			dst = append(dst, g711.DecodeAlawFrame(b))
		} else {
			dst = append(dst, g711.DecodeUlawFrame(b))
		}
	}
	return dst
}

// Encode turns samples into G.711 bytes of payload type pt, appending to dst.
func Encode(dst []byte, pt uint8, pcm []int16) []byte {
	for _, s := range pcm {
		if pt == PayloadPCMA {
			dst = append(dst, g711.EncodeAlawFrame(s))
		} else {
			dst = append(dst, g711.EncodeUlawFrame(s))
		}
	}
	return dst
}

// Tone generates a sine wave frame by frame, with no gap between frames.
type Tone struct {
	Freq float64
	// Amplitude is the peak, 0..32767 (default 8000).
	Amplitude float64
	phase     float64
}

// Fill writes the next len(pcm) samples of the tone.
func (t *Tone) Fill(pcm []int16) {
	amp := t.Amplitude
	if amp == 0 {
		amp = 8000
	}
	step := 2 * math.Pi * t.Freq / SampleRate
	for i := range pcm {
		pcm[i] = int16(amp * math.Sin(t.phase))
		t.phase += step
		if t.phase > 2*math.Pi {
			t.phase -= 2 * math.Pi
		}
	}
}

// Goertzel returns the power of freq in pcm relative to the signal's total
// power (0..1): near 1 when pcm is a pure tone at freq, near 0 when the
// tone is absent.
func Goertzel(pcm []int16, freq float64) float64 {
	if len(pcm) == 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/SampleRate)
	var s1, s2, energy float64
	for _, v := range pcm {
		x := float64(v)
		energy += x * x
		s0 := x + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	if energy == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * power / (float64(len(pcm)) * energy)
}

// ToneDetector counts the frames in which a tone stands out.
type ToneDetector struct {
	Freq float64
	// Threshold is the relative power that counts as present (default 0.5).
	Threshold float64
	Frames    int
	Hits      int
}

// Feed judges one frame.
func (d *ToneDetector) Feed(pcm []int16) {
	th := d.Threshold
	if th == 0 {
		th = 0.5
	}
	d.Frames++
	if Goertzel(pcm, d.Freq) >= th {
		d.Hits++
	}
}
