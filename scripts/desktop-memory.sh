#!/usr/bin/env bash
# Measures the desktop app's memory the way the system accounts for it: the
# proportional set size (PSS, /proc/PID/smaps_rollup) summed over the whole
# process tree (the Go process with the embedded engine and WebKit's web and
# network processes), with a cache of N synced messages (default 100,000).
#
# It seeds a data directory (the demo workspace plus N messages, through
# scripts/memseed), starts the real desktop window under Xvfb with a real
# Secret Service, signed in as the demo agent Ana, waits until her cache has
# synced every message and the inbox is on screen, lets it settle, and prints
# each process's PSS and RSS, the total and the machine's load (shared
# library pages are split with every other process mapping them, so a busy
# machine moves the figure by several MB).
#
# With DETAIL=N it also lists each process's N largest mappings by PSS with
# their private dirty part (relocated library data, heaps), the view that
# tells code from data.
#
# With --floor instead of a binary it measures the smallest WebKitGTK window
# (scripts/webkitfloor/floor.c: one static sentence, the app's WebKit
# settings), built here with gcc: what any app on this system's WebKitGTK
# costs before it does anything.
#
# Usage: [DETAIL=N] scripts/desktop-memory.sh BINARY [MESSAGES]
#        [DETAIL=N] scripts/desktop-memory.sh --floor
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "${1:-}" = --floor ]; then
	bin=$work/floor messages=0 floor=1
	# shellcheck disable=SC2046 # pkg-config prints separate flags
	gcc -O2 -o "$bin" "$here/scripts/webkitfloor/floor.c" $(pkg-config --cflags --libs webkit2gtk-4.1 gtk+-3.0)
else
	bin=$(realpath "${1:?binary}")
	messages=${2:-100000} floor=0
	(cd "$here" && go run ./scripts/memseed -data "$work/data" -messages "$messages")
fi

# Runs inside the private session bus and the X server.
cat >"$work/measure.sh" <<'INNER'
set -euo pipefail
if [ "$FLOOR" = 1 ]; then
	JSC_useJIT=false "$BIN" >"$LOG" 2>&1 &
	pid=$!
	for _ in $(seq 1 60); do grep -q "page shown" "$LOG" && break; sleep 1; done
	grep -q "page shown" "$LOG" || { echo "the window never showed its page:"; cat "$LOG"; kill "$pid"; exit 1; }
else
"$BIN" --data "$DATA" --demo --demo-user ana@example.com >"$LOG" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
	grep -q "sync: caught up" "$LOG" && break
	kill -0 "$pid" 2>/dev/null || { echo "the desktop app exited:"; cat "$LOG"; exit 1; }
	sleep 1
done
grep "sync: caught up" "$LOG" || { echo "the cache never caught up:"; tail -20 "$LOG"; kill "$pid"; exit 1; }
grep -q "inbox shown" "$LOG" || { echo "the inbox never showed"; kill "$pid"; exit 1; }
fi
sleep 10 # the list reloads after the catch-up; let the processes settle
tree() {
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree "$c"; done
}
total=0
printf '%-30s %9s %9s\n' process 'PSS (MB)' 'RSS (MB)'
for p in $(tree "$pid"); do
	[ -r "/proc/$p/smaps_rollup" ] || continue
	pss=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")
	rss=$(awk '/^Rss:/ {print $2}' "/proc/$p/smaps_rollup")
	awk -v n="$(cat /proc/"$p"/comm)" -v p="$pss" -v r="$rss" 'BEGIN { printf "%-30s %9.1f %9.1f\n", n, p / 1024, r / 1024 }'
	total=$((total + pss))
	if [ "${DETAIL:-0}" -gt 0 ]; then
		awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6; if (name == "") name = "[anon]" }
			/^Pss:/ { pss[name] += $2 } /^Private_Dirty:/ { dirty[name] += $2 }
			END { for (n in pss) printf "    %8.1f PSS %8.1f private dirty  %s\n", pss[n] / 1024, dirty[n] / 1024, n }' \
			"/proc/$p/smaps" | sort -rn | head -n "$DETAIL" || true
	fi
done
if [ "$FLOOR" = 1 ]; then what="total, a bare WebKitGTK window"; else what="total, $MESSAGES cached messages"; fi
awk -v t="$total" -v w="$what" 'BEGIN { printf "%-30s %9.1f\n", w, t / 1024 }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
kill "$pid"
wait "$pid" || true
INNER

export XDG_DATA_HOME="$work/xdg" XDG_CONFIG_HOME="$work/config"
export BIN="$bin" DATA="$work/data" LOG="$work/app.log" MESSAGES="$messages" FLOOR="$floor"
dbus-run-session -- bash -c "echo -n pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null
	xvfb-run -a -s '-screen 0 1280x900x24' bash '$work/measure.sh'" \
	2> >(grep -v "Failed to set fd limit\|dbus-daemon\|SpiRegistry" >&2)
