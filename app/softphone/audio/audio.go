// Package audio connects the softphone to sound devices through miniaudio
// (github.com/gen2brain/malgo, cgo). It is kept apart so that everything
// else builds with CGO_ENABLED=0; without cgo, Open reports that devices
// are not available and the phone runs silent.
package audio

import (
	"sync"

	"switchboard/backend/voice/dsp"
)

// Options choose the devices. Empty names are the system defaults.
type Options struct {
	// Null uses miniaudio's null backend: devices that exist and tick but
	// hear and play nothing (machines without sound cards, tests).
	Null bool
	// Microphone and Speaker name capture and playback devices.
	Microphone, Speaker string
}

// Devices lists the capture and playback devices by name.
type Devices struct {
	Microphones []string `json:"microphones"`
	Speakers    []string `json:"speakers"`
}

// ring is a bounded sample queue between the device's callback and the
// phone's 20 ms frames. When it is full the oldest samples go.
type ring struct {
	mu  sync.Mutex
	buf []int16
	max int
}

func (r *ring) push(s []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, s...)
	if len(r.buf) > r.max {
		r.buf = r.buf[len(r.buf)-r.max:]
	}
}

// pop fills dst and pads with silence when short.
func (r *ring) pop(dst []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := copy(dst, r.buf)
	r.buf = r.buf[n:]
	clear(dst[n:])
}

func newRing() *ring { return &ring{max: 10 * dsp.FrameSamples} }
