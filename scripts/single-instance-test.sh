#!/usr/bin/env bash
# One window per user: a second launch hands over to the running app and
# exits, and the running window comes to the front. Runs the real binary
# twice under Xvfb with a real window manager (openbox) and a private D-Bus
# session (Wails' single-instance lock lives on the session bus).
# Usage: scripts/single-instance-test.sh BINARY OUTPUT-DIR
set -euo pipefail
bin=$(realpath "${1:?binary}")
out=$(realpath -m "${2:?output directory}")
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_DATA_HOME="$work/xdg" XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
export BIN="$bin" OUT="$out" DATA="$work/data"

"$(dirname "$0")/with-keyring.sh" bash -c '
	xvfb-run -a -s "-screen 0 1280x900x24" bash -euo pipefail -c "
		fail() { echo \"single instance: \$*\"; echo --- first; cat \$OUT/single-first.log; echo --- second; cat \$OUT/single-second.log 2>/dev/null; exit 1; }
		waitfor() { # what, tries of 0.1 s, command
			local what=\$1 tries=\$2; shift 2
			for _ in \$(seq 1 \$tries); do \"\$@\" >/dev/null 2>&1 && return 0; sleep 0.1; done
			fail \"timed out waiting for \$what\"
		}
		openbox >\$OUT/single-wm.log 2>&1 &
		waitfor \"the window manager\" 100 wmctrl -m

		\$BIN --data \$DATA --demo --demo-user ana@example.com >\$OUT/single-first.log 2>&1 &
		first=\$!
		waitfor \"the first window to show the inbox\" 600 grep -q \"inbox shown\" \$OUT/single-first.log
		win=\$(xdotool search --onlyvisible --class switchboard | head -1)
		[ -n \"\$win\" ] || fail \"no visible Switchboard window\"

		# Put the window away: minimised, and no longer the active window.
		xdotool windowminimize \$win
		iconic() { xprop -id \$win WM_STATE | grep -q Iconic; }
		waitfor \"the window to be minimised\" 100 iconic
		[ \"\$(xdotool getactivewindow 2>/dev/null || echo none)\" != \"\$win\" ] || fail \"the minimised window is still active\"

		start=\$(date +%s%N)
		set +e
		timeout 60 \$BIN --data \$DATA --demo >\$OUT/single-second.log 2>&1
		code=\$?
		set -e
		ms=\$(( (\$(date +%s%N) - start) / 1000000 ))
		echo \"second launch exited with status \$code after \$ms ms\"
		[ \$code -ne 124 ] || fail \"the second launch did not exit\"
		! grep -Eq \"frontend ready|embedded engine started\" \$OUT/single-second.log || fail \"the second launch opened its own window or engine\"

		waitfor \"the first app to hear of the second launch\" 100 grep -q \"second launch: bringing the window to the front\" \$OUT/single-first.log
		active() { [ \"\$(xdotool getactivewindow 2>/dev/null)\" = \"\$win\" ] && ! iconic; }
		waitfor \"the first window to come to the front\" 100 active
		kill -0 \$first || fail \"the first app died\"
		sleep 1 # let it repaint before the screenshot
		import -window root \$OUT/single-instance.png
		echo \"the running window (0x\$(printf %x \$win)) is active again and no longer minimised\"
		kill \$first; wait \$first || true
	"
' 2>&1 | { grep -v -e "dbus-daemon\[" -e "SpiRegistry" || true; }
test -s "$out/single-instance.png" || { echo "single instance: no screenshot"; exit 1; }
echo "single instance: ok ($out/single-instance.png)"
