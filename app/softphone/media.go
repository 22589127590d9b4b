package softphone

import (
	"errors"
	"io"
	"sync"

	"switchboard/backend/voice/dsp"
)

// FrameSamples is one 20 ms frame at 8 kHz: what a Source fills and a Sink
// takes each time.
const FrameSamples = dsp.FrameSamples

// Source is a microphone: Read fills one frame of 8 kHz samples. It is
// called every 20 ms while a call is up.
type Source interface {
	Read(frame []int16) error
}

// Sink is a speaker: Write plays one frame of 8 kHz samples.
type Sink interface {
	Write(frame []int16) error
}

// Null is a silent microphone and a speaker that discards.
type Null struct{}

// Read fills silence.
func (Null) Read(frame []int16) error { clear(frame); return nil }

// Write discards.
func (Null) Write([]int16) error { return nil }

// ToneSource is a microphone that plays a steady tone (tests, sound check).
type ToneSource struct {
	mu   sync.Mutex
	tone dsp.Tone
}

// NewToneSource returns a source playing freq Hz.
func NewToneSource(freq float64) *ToneSource { return &ToneSource{tone: dsp.Tone{Freq: freq}} }

// Read implements Source.
func (t *ToneSource) Read(frame []int16) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tone.Fill(frame)
	return nil
}

// FileSource is a microphone that plays a WAV file (8 kHz mono) in a loop.
type FileSource struct {
	mu  sync.Mutex
	pcm []int16
	pos int
}

// NewFileSource reads a WAV file for a FileSource.
func NewFileSource(path string) (*FileSource, error) {
	pcm, err := dsp.ReadWAVFile(path)
	if err != nil {
		return nil, err
	}
	if len(pcm) == 0 {
		return nil, errors.New("the WAV file has no samples")
	}
	return &FileSource{pcm: pcm}, nil
}

// Read implements Source.
func (f *FileSource) Read(frame []int16) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range frame {
		frame[i] = f.pcm[f.pos]
		f.pos = (f.pos + 1) % len(f.pcm)
	}
	return nil
}

// Capture is a speaker that keeps what it hears and judges tones in it.
type Capture struct {
	mu     sync.Mutex
	frames [][]int16
	max    int
}

// NewCapture keeps at most maxFrames frames (the newest).
func NewCapture(maxFrames int) *Capture { return &Capture{max: maxFrames} }

// Write implements Sink.
func (c *Capture) Write(frame []int16) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frames = append(c.frames, append([]int16(nil), frame...))
	if len(c.frames) > c.max {
		c.frames = c.frames[len(c.frames)-c.max:]
	}
	return nil
}

// Reset forgets what was heard.
func (c *Capture) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frames = nil
}

// ToneShare returns how many frames were heard and the share of them in
// which freq stands out (Goertzel).
func (c *Capture) ToneShare(freq float64) (frames int, share float64) {
	return c.ToneShareAt(freq, 0)
}

// ToneShareAt is ToneShare with the share of a frame's power that counts
// as the tone being there (dsp.ToneDetector's Threshold): lower to find a
// tone mixed with others.
func (c *Capture) ToneShareAt(freq, threshold float64) (frames int, share float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := dsp.ToneDetector{Freq: freq, Threshold: threshold}
	for _, f := range c.frames {
		d.Feed(f)
	}
	if d.Frames == 0 {
		return 0, 0
	}
	return d.Frames, float64(d.Hits) / float64(d.Frames)
}

// WriteWAV saves what was heard.
func (c *Capture) WriteWAV(w io.Writer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var pcm []int16
	for _, f := range c.frames {
		pcm = append(pcm, f...)
	}
	return dsp.WriteWAV(w, pcm)
}
