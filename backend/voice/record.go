package voice

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/pion/rtp"

	"switchboard/backend/voice/dsp"
)

// recorder writes a call to a stereo WAV file: the caller on the left, what
// the caller hears from agents on the right. Each side's samples are placed
// by their RTP timestamps, anchored to the arrival time of the first packet
// of each burst, in a raw file per side; Close interleaves them.
type recorder struct {
	path  string
	start time.Time
	now   func() time.Time

	mu    sync.Mutex
	sides [2]*recSide
	buf   []int16
}

type recSide struct {
	f        *os.File
	anchorT  uint32 // RTP timestamp at the anchor
	anchorP  int64  // sample position at the anchor
	anchored bool
	lastTS   uint32
	frames   int64 // furthest sample written
}

func newRecorder(path string, now func() time.Time) (*recorder, error) {
	r := &recorder{path: path, start: now(), now: now}
	for i := range r.sides {
		f, err := os.CreateTemp("", "switchboard-rec-*.raw")
		if err != nil {
			r.discard()
			return nil, fmt.Errorf("create recording: %w", err)
		}
		r.sides[i] = &recSide{f: f}
	}
	return r, nil
}

// add records one G.711 packet on side 0 (caller) or 1 (agents).
func (r *recorder) add(side int, p *rtp.Packet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sides[side]
	if s == nil {
		return
	}
	at := int64(r.now().Sub(r.start) * dsp.SampleRate / time.Second)
	// Re-anchor on the first packet, after a pause of over 200 ms or on a
	// timestamp jump (a new source).
	gap := int64(int32(p.Timestamp - s.lastTS))
	if !s.anchored || p.Marker || gap > 4*dsp.SampleRate || gap < -4*dsp.SampleRate ||
		at-(s.anchorP+int64(int32(p.Timestamp-s.anchorT))) > dsp.SampleRate/5 {
		s.anchorT, s.anchorP, s.anchored = p.Timestamp, max(at, 0), true
	}
	s.lastTS = p.Timestamp
	pos := s.anchorP + int64(int32(p.Timestamp-s.anchorT))
	if pos < 0 {
		return
	}
	r.buf = dsp.Decode(r.buf[:0], p.PayloadType, p.Payload)
	b := make([]byte, 2*len(r.buf))
	for i, v := range r.buf {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	if _, err := s.f.WriteAt(b, 2*pos); err == nil {
		s.frames = max(s.frames, pos+int64(len(r.buf)))
	}
}

// close writes the WAV file and removes the raw files.
func (r *recorder) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.discard()
	frames := max(r.sides[0].frames, r.sides[1].frames)
	out, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write recording: %w", err)
	}
	w := bufio.NewWriter(out)
	w.Write(dsp.WAVHeader(2, int(frames)))
	var readers [2]*bufio.Reader
	for i, s := range r.sides {
		s.f.Seek(0, io.SeekStart)
		readers[i] = bufio.NewReader(io.LimitReader(s.f, 2*s.frames))
	}
	var pair [4]byte
	for n := int64(0); n < frames; n++ {
		for i := range readers {
			pair[2*i], pair[2*i+1] = 0, 0
			io.ReadFull(readers[i], pair[2*i:2*i+2])
		}
		w.Write(pair[:])
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return fmt.Errorf("write recording: %w", err)
	}
	return out.Close()
}

func (r *recorder) discard() {
	for i, s := range r.sides {
		if s != nil {
			s.f.Close()
			os.Remove(s.f.Name())
			r.sides[i] = nil
		}
	}
}

// sideRecorder records one side's G.711 stream (voicemail: mono).
type monoRecorder struct {
	mu  sync.Mutex
	pcm []int16
	max int
}

func (m *monoRecorder) add(p *rtp.Packet) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pcm = dsp.Decode(m.pcm, p.PayloadType, p.Payload)
	return len(m.pcm) >= m.max
}

func (m *monoRecorder) save(path string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := dsp.WriteWAV(f, m.pcm); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
