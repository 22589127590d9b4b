package voicetest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/backend/voice/dsp"
)

// StartSipp runs Debian's sipp in dir with the scenario template at path,
// its placeholders replaced, and returns a channel that gets its exit and
// its output (complete once the channel has a value). sipp ends after one
// call unless args say otherwise with -m; the test's cleanup stops it and,
// when the test failed, logs what it said.
func StartSipp(t *testing.T, dir, path string, replace map[string]string, args ...string) (<-chan error, *bytes.Buffer) {
	t.Helper()
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatal("sipp is missing: install Debian's sip-tester (make deps does)")
	}
	tmpl, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(tmpl)
	for k, v := range replace {
		text = strings.ReplaceAll(text, k, v)
	}
	scenario := filepath.Base(path)
	if err := os.WriteFile(filepath.Join(dir, scenario), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	base := []string{"-sf", scenario, "-i", "127.0.0.1", "-nostdin", "-trace_err", "-timeout_error"}
	if !slices.Contains(args, "-m") {
		base = append(base, "-m", "1")
	}
	cmd := exec.Command(sipp, append(base, args...)...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited, waited := make(chan error, 1), make(chan struct{})
	go func() { exited <- cmd.Wait(); close(waited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-waited // sipp's output is complete only once Wait returned
		if t.Failed() {
			errs, _ := globRead(dir, "*_errors.log")
			t.Logf("sipp said:\n%s\n%s", out.String(), errs)
		}
	})
	return exited, &out
}

func globRead(dir, pattern string) (string, error) {
	names, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, n := range names {
		data, _ := os.ReadFile(n)
		b.Write(data)
	}
	return b.String(), nil
}

// WriteULawTone writes a μ-law WAV of a tone, the format sipp's rtp_stream
// plays as PCMU.
func WriteULawTone(tb testing.TB, path string, freq float64, seconds int) {
	tb.Helper()
	pcm := make([]int16, seconds*dsp.SampleRate)
	(&dsp.Tone{Freq: freq}).Fill(pcm)
	data := dsp.Encode(nil, dsp.PayloadPCMU, pcm)
	h := dsp.WAVHeader(1, 0)
	h[20], h[34] = 7, 8 // format μ-law, 8 bits
	putLE32(h[24+4:], dsp.SampleRate)
	h[32] = 1
	putLE32(h[4:], uint32(36+len(data)))
	putLE32(h[40:], uint32(len(data)))
	if err := os.WriteFile(path, append(h, data...), 0o600); err != nil {
		tb.Fatal(err)
	}
}

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// FreePort returns a UDP port free on loopback right now.
func FreePort(tb testing.TB) int {
	tb.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// WaitBound waits (up to 20 s) until a process (sipp) listens on the
// loopback UDP port, reading the kernel's socket table rather than binding
// the port to probe it.
func WaitBound(tb testing.TB, port int) {
	tb.Helper()
	local := fmt.Sprintf("0100007F:%04X", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		table, err := os.ReadFile("/proc/net/udp")
		if err != nil {
			tb.Fatal(err)
		}
		for _, line := range strings.Split(string(table), "\n")[1:] {
			if f := strings.Fields(line); len(f) > 1 && f[1] == local {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for a listener on UDP port %d", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
