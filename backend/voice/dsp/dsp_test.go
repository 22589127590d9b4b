package dsp_test

import (
	"bytes"
	"testing"
	"time"

	"switchboard/backend/voice/dsp"
)

func TestMOS(t *testing.T) {
	for _, tc := range []struct {
		name              string
		rtt, jitter, loss float64
		min, max          float64
	}{
		{"clean loopback", 1, 0.5, 0, 4.3, 4.5},
		{"3% random loss", 1, 0.5, 3, 3.8, 4.2},
		{"10% loss", 20, 5, 10, 2.5, 3.5},
		{"long delay", 800, 20, 0, 1, 3.6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if m := dsp.MOS(tc.rtt, tc.jitter, tc.loss); m < tc.min || m > tc.max {
				t.Fatalf("MOS = %.2f, want %.1f..%.1f", m, tc.min, tc.max)
			}
		})
	}
	q := dsp.Quality{RTTMs: 450, JitterMs: 35, LossPercent: 4}
	q.Judge()
	if len(q.Warnings) != 4 {
		t.Fatalf("warnings = %v", q.Warnings)
	}
}

func TestRecvStats_LossAndJitter(t *testing.T) {
	var s dsp.RecvStats
	at := time.Unix(0, 0)
	for i := 0; i < 100; i++ {
		if i%10 == 3 {
			continue // 10% lost
		}
		jitter := time.Duration(i%2) * 10 * time.Millisecond
		s.Add(uint16(65500+i), uint32(i*160), at.Add(time.Duration(i)*20*time.Millisecond+jitter))
	}
	if l := s.LossPercent(); l < 9 || l > 11 {
		t.Fatalf("loss = %.1f%%", l)
	}
	if j := s.JitterMs(); j < 5 || j > 12 {
		t.Fatalf("jitter = %.1f ms", j)
	}
}

func TestToneAndGoertzel(t *testing.T) {
	pcm := make([]int16, 160)
	(&dsp.Tone{Freq: 1000}).Fill(pcm)
	if p := dsp.Goertzel(pcm, 1000); p < 0.9 {
		t.Fatalf("1000 Hz in its own tone: %.2f", p)
	}
	if p := dsp.Goertzel(pcm, 440); p > 0.1 {
		t.Fatalf("440 Hz in a 1000 Hz tone: %.2f", p)
	}
	u := dsp.Decode(nil, dsp.PayloadPCMU, dsp.Encode(nil, dsp.PayloadPCMU, pcm))
	if p := dsp.Goertzel(u, 1000); p < 0.9 {
		t.Fatalf("after G.711: %.2f", p)
	}
}

func TestWAV_RoundTripAndRefusals(t *testing.T) {
	pcm := []int16{1, -2, 300, -32768, 32767}
	var b bytes.Buffer
	if err := dsp.WriteWAV(&b, pcm); err != nil {
		t.Fatal(err)
	}
	got, err := dsp.ReadWAV(bytes.NewReader(b.Bytes()))
	if err != nil || len(got) != len(pcm) || got[3] != -32768 {
		t.Fatalf("got %v, %v", got, err)
	}
	stereo := dsp.WAVHeader(2, 0)
	if _, err := dsp.ReadWAV(bytes.NewReader(stereo)); err == nil {
		t.Fatal("a stereo file was read as a prompt")
	}
	if _, err := dsp.ReadWAV(bytes.NewReader([]byte("RIFF....WAVX"))); err == nil {
		t.Fatal("not a WAV file was read")
	}
}
