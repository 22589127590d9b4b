#!/usr/bin/env bash
# The real desktop binary in a window under Xvfb during a phone call: the
# embedded demo engine takes SIP on loopback, sipp calls its demo trunk and
# presses 2, Ana's app answers (--auto-answer) with the null sound device,
# and a screenshot is taken while the call is connected.
# Usage: scripts/desktop-call.sh BINARY OUTPUT.png
set -euo pipefail
bin=$(realpath "${1:?binary}")
shot=$(realpath -m "${2:?screenshot path}")
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$(dirname "$shot")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log="${shot%.png}.log"
sip=$((20000 + RANDOM % 20000))

export XDG_DATA_HOME="$work/xdg" XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
export BIN="$bin" SHOT="$shot" LOG="$log" DATA="$work/data" SIP="$sip" SCENARIO="$here/desktop-call.xml" WORK="$work"
"$(dirname "$0")/with-keyring.sh" bash -c '
	xvfb-run -a -s "-screen 0 1280x900x24" bash -c "
		\"\$BIN\" --data \"\$DATA\" --demo --demo-user ana@example.com --sip 127.0.0.1:\$SIP --audio null --auto-answer >\"\$LOG\" 2>&1 &
		pid=\$!
		for i in \$(seq 1 120); do
			# The page calls Go first; the demo sign-in then starts the engine.
			grep -q \"frontend ready\" \"\$LOG\" && grep -q \"embedded engine started\" \"\$LOG\" && break
			kill -0 \$pid 2>/dev/null || { echo \"desktop app exited early:\"; cat \"\$LOG\"; exit 1; }
			sleep 0.5
		done
		url=\$(grep \"embedded engine started\" \"\$LOG\" | grep -o \"url=[^ ]*\" | head -1 | sed \"s/url=//\")
		[ -n \"\$url\" ] || { echo \"no embedded engine:\"; cat \"\$LOG\"; kill \$pid; exit 1; }
		# Ben goes on a break, so the call rings Ana.
		tok=\$(curl -sf -H \"Content-Type: application/json\" -d \"{\\\"email\\\":\\\"ben@example.com\\\",\\\"password\\\":\\\"switchboard\\\"}\" \"\$url/api/auth/signin\" | sed \"s/.*\\\"token\\\":\\\"\\([^\\\"]*\\)\\\".*/\\1/\")
		curl -sf -H \"Authorization: Bearer \$tok\" -H \"Content-Type: application/json\" -d \"{\\\"activity\\\":\\\"Break\\\"}\" \"\$url/api/me/activity\" >/dev/null
		(cd \"\$WORK\" && sipp 127.0.0.1:\$SIP -sf \"\$SCENARIO\" -s +15550100 -m 1 -i 127.0.0.1 -nostdin -timeout 60s >\"\$WORK/sipp.log\" 2>&1) &
		for i in \$(seq 1 60); do
			grep -q \"call connected\" \"\$LOG\" && break
			sleep 0.5
		done
		grep -q \"call connected\" \"\$LOG\" || { echo \"the call never connected:\"; cat \"\$LOG\" \"\$WORK/sipp.log\"; kill \$pid; exit 1; }
		sleep 3   # the call card shows its timer and quality
		import -window root \"\$SHOT\"
		kill \$pid; wait \$pid || true
	"
' 2>&1 || true
test -s "$shot" || { echo "no screenshot written"; exit 1; }
grep -q "call connected" "$log" || { echo "the call never connected"; cat "$log"; exit 1; }
colours=$(convert "$shot" -format %k info:)
echo "desktop call screenshot: $shot ($colours colours)"
if [ "$colours" -lt 20 ]; then echo "the window looks blank"; exit 1; fi
