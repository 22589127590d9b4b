package softphone_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
)

// A website visitor calls from the chat widget in Chromium (fake media
// devices playing a 440 Hz tone); Ana's softphone answers; each side hears
// the other's tone; the visitor hangs up. The call sits in the visitor's
// web chat conversation.
func TestWebCall(t *testing.T) {
	if os.Getenv("SWITCHBOARD_E2E") == "" {
		t.Skip("set SWITCHBOARD_E2E=1 (make test does) to run the browser test")
	}
	e := MustStartEngine(t)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1><script src="%s/widget/site/widget.js" async></script></body></html>`, e.URL())
	}))
	defer site.Close()
	e.do(t, e.admin, "PUT", "/api/channels/webchat/site", fmt.Sprintf(`{"config":{"allowedOrigins":[%q],"title":"Talk to us"}}`, site.URL), nil, 200)
	ana := e.MustAgent(t, "ana@example.com", anaTone)

	dir := t.TempDir()
	wav := filepath.Join(dir, "voice.wav")
	writePCM48k(t, wav, callerTone, 10)
	out, _ := filepath.Abs("../../build/test-output")
	os.MkdirAll(out, 0o755)
	cmd := exec.Command("node", "../../frontend/e2e/webcall.mjs")
	cmd.Env = append(os.Environ(), "PAGE_URL="+site.URL, "FAKE_WAV="+wav, "SHOT="+filepath.Join(out, "webcall.png"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan map[string]any, 8)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				lines <- m
			}
		}
		close(lines)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("browser said:\n%s", stderr.String())
		}
	})

	in := ana.nextWithin(t, "incoming", time.Minute) // Chromium starts cold
	if in.Call.Channel != backend.CallChannelWeb || in.Call.From != "Wendy Web" {
		t.Fatalf("incoming = %+v", in.Call.Call)
	}
	if err := ana.phone.Answer(in.Call.ID); err != nil {
		t.Fatal(err)
	}
	ana.nextState(t, backend.CallConnected)
	waitFor(t, "Ana to hear the visitor", func() bool { return hears(ana.speaker, callerTone) })
	var heard map[string]any
	for m := range lines {
		if m["step"] == "heard" {
			heard = m["tones"].(map[string]any)
		}
		if m["step"] == "hung up" {
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("browser: %v\n%s", err, stderr.String())
	}
	if heard == nil || heard["1000"].(float64) < 0.5 || heard["440"].(float64) > 0.2 {
		t.Fatalf("the visitor heard %v (want Ana's 1000 Hz)\n%s", heard, stderr.String())
	}
	ana.next(t, "ended")
	call := e.waitEnded(t, in.Call.ID)
	conv, err := e.DB.FindConversationByID(t.Context(), call.ConversationID)
	if err != nil || conv.Channel != "webchat" || conv.Instance != "site" {
		t.Fatalf("conversation = %+v, %v", conv, err)
	}
	msgs, _ := e.DB.FindMessages(t.Context(), conv.ID)
	var texts []string
	for _, m := range msgs {
		texts = append(texts, m.Text)
	}
	if all := strings.Join(texts, " | "); !strings.Contains(all, "Web call from Wendy Web") || !strings.Contains(all, "Call with Ana Agent ended") {
		t.Fatalf("timeline: %s", all)
	}
}

// writePCM48k writes a 16-bit 48 kHz mono WAV of a tone, what Chromium's
// fake microphone plays.
func writePCM48k(tb testing.TB, path string, freq float64, seconds int) {
	tb.Helper()
	const rate = 48000
	n := rate * seconds
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(2*n))
	for i := 0; i < n; i++ {
		binary.Write(&b, binary.LittleEndian, int16(8000*math.Sin(2*math.Pi*freq*float64(i)/rate)))
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
}
