package dsp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// WAV format codes this package reads and writes.
const (
	wavPCM  = 1
	wavALaw = 6
	wavULaw = 7
)

// ReadWAV reads a mono 8 kHz WAV file (16-bit PCM, μ-law or A-law) and
// returns its samples. Other formats are an error naming what was found.
func ReadWAV(r io.Reader) ([]int16, error) {
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return nil, fmt.Errorf("read wav header: %w", err)
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return nil, errors.New("not a WAV file")
	}
	var format, channels, bits uint16
	var rate uint32
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, fmt.Errorf("read wav chunk: %w", err)
		}
		size := binary.LittleEndian.Uint32(hdr[4:])
		if size > 64<<20 {
			return nil, errors.New("WAV chunk larger than 64 MiB")
		}
		body := make([]byte, size+size%2)
		if _, err := io.ReadFull(r, body); err != nil && !(string(hdr[0:4]) == "data" && errors.Is(err, io.ErrUnexpectedEOF)) {
			return nil, fmt.Errorf("read wav chunk %q: %w", hdr[0:4], err)
		}
		body = body[:size]
		switch string(hdr[0:4]) {
		case "fmt ":
			if len(body) < 16 {
				return nil, errors.New("WAV fmt chunk too short")
			}
			format, channels = binary.LittleEndian.Uint16(body[0:]), binary.LittleEndian.Uint16(body[2:])
			rate, bits = binary.LittleEndian.Uint32(body[4:]), binary.LittleEndian.Uint16(body[14:])
		case "data":
			if channels != 1 || rate != SampleRate {
				return nil, fmt.Errorf("WAV must be mono 8000 Hz, not %d channels at %d Hz", channels, rate)
			}
			switch {
			case format == wavPCM && bits == 16:
				pcm := make([]int16, len(body)/2)
				for i := range pcm {
					pcm[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
				}
				return pcm, nil
			case format == wavULaw && bits == 8:
				return Decode(nil, PayloadPCMU, body), nil
			case format == wavALaw && bits == 8:
				return Decode(nil, PayloadPCMA, body), nil
			}
			return nil, fmt.Errorf("WAV must be 16-bit PCM, μ-law or A-law, not format %d with %d bits", format, bits)
		}
	}
}

// ReadWAVFile reads a WAV file from disk (see ReadWAV).
func ReadWAVFile(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadWAV(f)
}

// WAVHeader returns the 44-byte header of a 16-bit PCM WAV file at 8 kHz
// with the given channels and number of sample frames.
func WAVHeader(channels, frames int) []byte {
	data := frames * channels * 2
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+data))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], wavPCM)
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], SampleRate)
	binary.LittleEndian.PutUint32(h[28:], uint32(SampleRate*channels*2))
	binary.LittleEndian.PutUint16(h[32:], uint16(channels*2))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(data))
	return h
}

// WriteWAV writes mono 16-bit PCM samples as a WAV file.
func WriteWAV(w io.Writer, pcm []int16) error {
	if _, err := w.Write(WAVHeader(1, len(pcm))); err != nil {
		return err
	}
	return binary.Write(w, binary.LittleEndian, pcm)
}

// ReadStereoWAV reads a 16-bit PCM stereo 8 kHz WAV (a call recording) and
// returns its left and right channels.
func ReadStereoWAV(path string) (left, right []int16, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 44 || string(b[0:4]) != "RIFF" || binary.LittleEndian.Uint16(b[22:]) != 2 {
		return nil, nil, errors.New("not a stereo WAV recording")
	}
	data := b[44:]
	for i := 0; i+3 < len(data); i += 4 {
		left = append(left, int16(binary.LittleEndian.Uint16(data[i:])))
		right = append(right, int16(binary.LittleEndian.Uint16(data[i+2:])))
	}
	return left, right, nil
}
