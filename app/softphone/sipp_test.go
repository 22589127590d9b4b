package softphone_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"switchboard/backend"
	"switchboard/backend/voice/dsp"
	"switchboard/backend/voice/voicetest"
)

// The acceptance test: Debian's sipp is the phone network. It calls the
// trunk with a tone as its voice, presses 2 in the IVR, holds and resumes
// the call itself (re-INVITE), and waits; a softphone answers, audio is
// checked both ways by tone, the agent holds, transfers warm to a second
// softphone, who hangs up. The recording holds both sides and the caller's
// timeline shows the call next to their SMS.
func TestSoftphone_SippCallerAcceptance(t *testing.T) {
	ctx := context.Background()
	e := MustStartEngine(t)
	sms, _, err := e.DB.StoreInbound(ctx, &backend.InboundMessage{Channel: "sms.twilio", Instance: "main",
		ExternalUserID: callerPhone, ExternalID: "SM1", Text: "I will call you about my order"})
	if err != nil {
		t.Fatal(err)
	}
	ana := e.MustAgent(t, "ana@example.com", anaTone)
	ben := e.MustAgent(t, "ben@example.com", benTone)
	e.do(t, ben.token, "POST", "/api/me/activity", `{"activity":"Break"}`, nil, 200)

	dir := t.TempDir()
	tap := listenTap(t)
	writeULawTone(t, filepath.Join(dir, "tone.wav"), callerTone, 60)
	exited, out := startSipp(t, dir, "caller.xml", map[string]string{"{{TAP}}": strconv.Itoa(tap.port()), "{{FROM}}": callerPhone, "{{TONE}}": "tone.wav"},
		e.Voice.SIPAddr(), "-s", trunkNumber, "-l", "1", "-p", strconv.Itoa(freePort(t)), "-mp", strconv.Itoa(freePort(t)), "-timeout", "120s")

	callID := answerHoldTransfer(t, e, ana, ben, tap)
	if err := ben.phone.Hangup(callID); err != nil {
		t.Fatal(err)
	}
	ben.next(t, "ended")
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("sipp failed: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("sipp did not finish: %s", out.String())
	}
	finish(t, e, callID, sms, ben)
}

// tap listens where sipp's SDP says its audio goes: what the caller hears.
type tap struct {
	conn *net.UDPConn
	mu   sync.Mutex
	pcm  []int16
}

func listenTap(tb testing.TB) *tap {
	tb.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	t := &tap{conn: c}
	tb.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		var p rtp.Packet
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if p.Unmarshal(buf[:n]) != nil || p.PayloadType != dsp.PayloadPCMU {
				continue
			}
			t.mu.Lock()
			t.pcm = dsp.Decode(t.pcm, p.PayloadType, p.Payload)
			if keep := 10 * dsp.SampleRate; len(t.pcm) > keep {
				t.pcm = append(t.pcm[:0], t.pcm[len(t.pcm)-keep:]...)
			}
			t.mu.Unlock()
		}
	}()
	return t
}

func (t *tap) port() int { return t.conn.LocalAddr().(*net.UDPAddr).Port }

func (t *tap) ToneShare(freq float64) (int, float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return voicetest.ToneShare(t.pcm, freq)
}

func (t *tap) ResetHeard() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pcm = t.pcm[:0]
}

// writeULawTone writes a μ-law WAV of a tone, the format sipp's rtp_stream
// plays as PCMU.
func writeULawTone(tb testing.TB, path string, freq float64, seconds int) {
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

// freePort returns a UDP port free on loopback right now.
func freePort(tb testing.TB) int {
	tb.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// waitBound waits until a process (sipp) listens on the UDP port, reading
// the kernel's socket table rather than binding the port to probe it.
func waitBound(tb testing.TB, port int) {
	tb.Helper()
	local := fmt.Sprintf("0100007F:%04X", port)
	waitFor(tb, fmt.Sprintf("a listener on UDP port %d", port), func() bool {
		table, err := os.ReadFile("/proc/net/udp")
		if err != nil {
			tb.Fatal(err)
		}
		for _, line := range strings.Split(string(table), "\n")[1:] {
			if f := strings.Fields(line); len(f) > 1 && f[1] == local {
				return true
			}
		}
		return false
	})
}

func filepathGlobRead(dir, pattern string) (string, error) {
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

// startSipp runs sipp in dir with a scenario template from testdata, its
// placeholders replaced, and returns a channel that gets its exit. sipp
// ends after one call unless args say otherwise with -m.
func startSipp(t *testing.T, dir, scenario string, replace map[string]string, args ...string) (<-chan error, *bytes.Buffer) {
	t.Helper()
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatal("sipp is missing: install Debian's sip-tester (make deps does)")
	}
	tmpl, err := os.ReadFile(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	text := string(tmpl)
	for k, v := range replace {
		text = strings.ReplaceAll(text, k, v)
	}
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
			errs, _ := filepathGlobRead(dir, "*_errors.log")
			t.Logf("sipp said:\n%s\n%s", out.String(), errs)
		}
	})
	return exited, &out
}
