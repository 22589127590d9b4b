//go:build cgo

package audio

import (
	"encoding/binary"
	"fmt"

	"github.com/gen2brain/malgo"

	"switchboard/backend/voice/dsp"
)

// nullBackend is miniaudio's null backend. malgo.BackendNull is miniaudio's
// custom backend, which fails; the null backend is number 14.
const nullBackend = malgo.Backend(14)

// Device is a duplex sound device: a Source (the microphone) and a Sink
// (the speaker) for the softphone, at 8 kHz mono.
type Device struct {
	ctx     *malgo.AllocatedContext
	dev     *malgo.Device
	capture *ring
	play    *ring
}

func context(null bool) (*malgo.AllocatedContext, error) {
	var backends []malgo.Backend
	if null {
		backends = []malgo.Backend{nullBackend}
	}
	return malgo.InitContext(backends, malgo.ContextConfig{}, nil)
}

// List returns the system's microphones and speakers.
func List(null bool) (Devices, error) {
	ctx, err := context(null)
	if err != nil {
		return Devices{}, fmt.Errorf("audio: %w", err)
	}
	defer func() { ctx.Uninit(); ctx.Free() }()
	var d Devices
	for _, kind := range []malgo.DeviceType{malgo.Capture, malgo.Playback} {
		infos, err := ctx.Devices(kind)
		if err != nil {
			return Devices{}, fmt.Errorf("audio: list devices: %w", err)
		}
		for _, i := range infos {
			if kind == malgo.Capture {
				d.Microphones = append(d.Microphones, i.Name())
			} else {
				d.Speakers = append(d.Speakers, i.Name())
			}
		}
	}
	return d, nil
}

// Open starts a duplex device.
func Open(o Options) (*Device, error) {
	ctx, err := context(o.Null)
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	d := &Device{ctx: ctx, capture: newRing(), play: newRing()}
	cfg := malgo.DefaultDeviceConfig(malgo.Duplex)
	cfg.SampleRate = dsp.SampleRate
	cfg.Capture.Format, cfg.Capture.Channels = malgo.FormatS16, 1
	cfg.Playback.Format, cfg.Playback.Channels = malgo.FormatS16, 1
	cfg.PeriodSizeInMilliseconds = 20
	for _, pick := range []struct {
		kind malgo.DeviceType
		name string
		sub  *malgo.SubConfig
	}{{malgo.Capture, o.Microphone, &cfg.Capture}, {malgo.Playback, o.Speaker, &cfg.Playback}} {
		if pick.name == "" {
			continue
		}
		infos, err := ctx.Devices(pick.kind)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("audio: list devices: %w", err)
		}
		found := false
		for _, i := range infos {
			if i.Name() == pick.name {
				id := i.ID
				pick.sub.DeviceID, found = id.Pointer(), true
			}
		}
		if !found {
			d.Close()
			return nil, fmt.Errorf("audio: there is no device %q", pick.name)
		}
	}
	in := make([]int16, 0, 4*dsp.FrameSamples)
	out := make([]int16, 4*dsp.FrameSamples)
	d.dev, err = malgo.InitDevice(ctx.Context, cfg, malgo.DeviceCallbacks{
		Data: func(output, input []byte, frames uint32) {
			in = in[:0]
			for i := 0; i+1 < len(input); i += 2 {
				in = append(in, int16(binary.LittleEndian.Uint16(input[i:])))
			}
			d.capture.push(in)
			if int(frames) > len(out) {
				out = make([]int16, frames)
			}
			d.play.pop(out[:frames])
			for i, s := range out[:frames] {
				binary.LittleEndian.PutUint16(output[2*i:], uint16(s))
			}
		},
	})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("audio: open device: %w", err)
	}
	if err := d.dev.Start(); err != nil {
		d.Close()
		return nil, fmt.Errorf("audio: start device: %w", err)
	}
	return d, nil
}

// Read implements softphone.Source: the microphone's latest 20 ms.
func (d *Device) Read(frame []int16) error {
	d.capture.pop(frame)
	return nil
}

// Write implements softphone.Sink.
func (d *Device) Write(frame []int16) error {
	d.play.push(frame)
	return nil
}

// Close stops the device.
func (d *Device) Close() error {
	if d.dev != nil {
		d.dev.Uninit()
		d.dev = nil
	}
	if d.ctx != nil {
		d.ctx.Uninit()
		d.ctx.Free()
		d.ctx = nil
	}
	return nil
}
