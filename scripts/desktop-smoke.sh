#!/usr/bin/env bash
# Starts the real desktop binary in a real window under Xvfb, with a real
# Secret Service, waits until the frontend has loaded and called a bound
# method (the app logs "frontend ready"), and takes a screenshot.
# Usage: [WAIT_FOR=REGEX] [MIN_COLOURS=N] scripts/desktop-smoke.sh BINARY OUTPUT.png [extra app flags…]
# (e.g. --demo-user ana@example.com to open on the demo agent's inbox, with
# WAIT_FOR='inbox shown' to take the screenshot once the app logged that).
# The app logs a screen when its data has arrived, a few frames before it is
# painted: the screenshot is taken again until it has at least MIN_COLOURS
# colours (default 20: more than a blank window), and the run fails if it
# never does.
set -euo pipefail
bin=${1:?binary}
shot=${2:?screenshot path}
shift 2
extra="$*"
mkdir -p "$(dirname "$shot")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log="${shot%.png}.log"

export XDG_DATA_HOME="$work/xdg" XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
min_colours=${MIN_COLOURS:-20}
export BIN="$bin" SHOT="$shot" LOG="$log" DATA="$work/data" EXTRA="$extra" WAIT_FOR="${WAIT_FOR:-frontend ready}" MIN_COLOURS="$min_colours"
"$(dirname "$0")/with-keyring.sh" bash -c '
	xvfb-run -a -s "-screen 0 1280x900x24" bash -c "
		start=\$(date +%s%N)
		\"\$BIN\" --data \"\$DATA\" --demo \$EXTRA >\"\$LOG\" 2>&1 &
		pid=\$!
		for i in \$(seq 1 120); do
			grep -q \"frontend ready\" \"\$LOG\" && break
			kill -0 \$pid 2>/dev/null || { echo \"desktop app exited early:\"; cat \"\$LOG\"; exit 1; }
			sleep 0.5
		done
		grep -q \"frontend ready\" \"\$LOG\" || { echo \"frontend never called Ready():\"; cat \"\$LOG\"; kill \$pid; exit 1; }
		echo \"process start to frontend ready: \$(( (\$(date +%s%N) - start) / 1000000 )) ms (polled every 0.5 s)\"
		for i in \$(seq 1 120); do
			grep -Eq \"\$WAIT_FOR\" \"\$LOG\" && break
			sleep 0.5
		done
		grep -Eq \"\$WAIT_FOR\" \"\$LOG\" || { echo \"the app never logged /\$WAIT_FOR/:\"; cat \"\$LOG\"; kill \$pid; exit 1; }
		# The logged screen is painted on the next frames: shoot until the
		# window is more than a blank background.
		for i in \$(seq 1 40); do
			import -window root \"\$SHOT\"
			[ \"\$(convert \"\$SHOT\" -format %k info:)\" -ge \"\$MIN_COLOURS\" ] && break
			sleep 0.5
		done
		kill \$pid; wait \$pid || true
	"
' 2>&1 || true
test -s "$shot" || { echo "no screenshot written"; exit 1; }
grep -q "frontend ready" "$log" || { echo "the frontend never reached Go"; cat "$log"; exit 1; }
# A blank window is one or two colours; a rendered screen has many.
colours=$(convert "$shot" -format %k info:)
echo "desktop screenshot: $shot ($colours colours)"
if [ "$colours" -lt 20 ]; then echo "the window looks blank"; exit 1; fi
if [ "$colours" -lt "$min_colours" ]; then echo "the screen never finished drawing (fewer than $min_colours colours)"; exit 1; fi
