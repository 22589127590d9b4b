package flow_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/backend/flow"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := flow.RunTestCommand(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunTestCommand(t *testing.T) {
	code, out, stderr := runCLI(t, "default", "--message", "hi", "--message", "I want a live agent")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		`flow "Default": 14 widgets, valid`,
		`message 1: "hi"`,
		"  check_agent (split)\n      test \"hi\"\n    → noMatch",
		`send "Hi! I'm the virtual assistant.`,
		"  wait_question (send-and-wait-for-reply)\n      wait for a reply (timeout 24h0m0s)\n    ⏸ waiting",
		`message 2: "I want a live agent"`,
		"    → agent_en",
		`create task channel=chat priority=0 attributes={"department":"support","language":"en"}`,
		"☎ handed to a live agent",
		"dry run: nothing was sent",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRunTestCommand_HTTPAndTimeout(t *testing.T) {
	path := filepath.Join("testdata", "flows", "http_bot.json")
	code, out, stderr := runCLI(t, path, "--message", "hello", "--http-response", `{"reply": "Hi from the bot", "handover": false}`, "--no-reply")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"POST https://bot.example.com/v1/message",
		`send "Hi from the bot"`,
		"no reply for 30m0s:",
		"no reply before the timeout\n    → timeout",
		"  end (end)\n    ■ ended",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRunTestCommand_StudioAndErrors(t *testing.T) {
	code, out, _ := runCLI(t, "--message", "hi", filepath.Join("testdata", "studio", "support.json"))
	if code != 1 || !strings.Contains(out, "imported a Twilio Studio export: 9 widgets mapped") {
		t.Errorf("studio export with an unreachable widget: exit %d\n%s", code, out)
	}
	code, _, stderr := runCLI(t, filepath.Join("testdata", "invalid", "loop.json"), "--message", "hi")
	if code != 1 || !strings.Contains(stderr, "count: loop with no wait in it: count → check → count") {
		t.Errorf("invalid flow: exit %d\n%s", code, stderr)
	}
	if code, _, _ := runCLI(t, "default"); code != 2 {
		t.Errorf("no message: exit %d, want 2", code)
	}
	if code, _, stderr := runCLI(t, "missing.json", "--message", "x"); code != 1 || !strings.Contains(stderr, "missing.json") {
		t.Errorf("missing file: exit %d %s", code, stderr)
	}
}
