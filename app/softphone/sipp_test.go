package softphone_test

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
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
	voicetest.WriteULawTone(t, filepath.Join(dir, "tone.wav"), callerTone, 60)
	exited, out := voicetest.StartSipp(t, dir, filepath.Join("testdata", "caller.xml"), map[string]string{"{{TAP}}": strconv.Itoa(tap.port()), "{{FROM}}": callerPhone, "{{TONE}}": "tone.wav"},
		e.Voice.SIPAddr(), "-s", trunkNumber, "-l", "1", "-p", strconv.Itoa(voicetest.FreePort(t)), "-mp", strconv.Itoa(voicetest.FreePort(t)), "-timeout", "120s")

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
