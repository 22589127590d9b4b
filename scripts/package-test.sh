#!/usr/bin/env bash
# Installs the .deb into a clean Debian 12 root and runs it there, the way an
# agent's computer would:
#   1. a fresh minbase debootstrap of bookworm from the mirror this machine's
#      apt uses (built once, then kept as a tarball and unpacked fresh each run);
#   2. `apt-get install ./switchboard_*.deb` inside it, which must pull every
#      library the program needs (ldd finds nothing missing);
#   3. the installed /usr/bin/switchboard started by an ordinary user under
#      Xvfb, with a private D-Bus session and the gnome-keyring the package
#      recommends, until it shows the demo inbox; a screenshot; then a second
#      start on the same data;
#   4. the installed menu entry through desktop-file-validate, the icons, the
#      man page through man, lintian on the .deb, and removal.
# Usage: scripts/package-test.sh PACKAGE.deb OUTPUT-DIR   (as root: chroot and mount)
set -euo pipefail
deb=$(realpath "${1:?package}")
out=$(realpath -m "${2:?output directory}")
[ "$(id -u)" = 0 ] || exec sudo -E "$0" "$@"
for tool in debootstrap Xvfb import desktop-file-validate lintian man; do
	command -v "$tool" >/dev/null || { echo "package-test: $tool is missing (make package-test installs it)"; exit 1; }
done
mkdir -p "$out"
arch=$(dpkg --print-architecture)
cache=${SWITCHBOARD_PACKAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchboard-package-test}
mkdir -p "$cache/archives/partial"
report="$out/package-test.txt"
: >"$report"
say() { echo "$*" | tee -a "$report"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# The mirror this machine's apt uses (deb822 or one-line sources).
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -1 || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
security=$(sed -n 's/^URIs: *\([^ ]*security[^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1 || true)
security=${security:-http://deb.debian.org/debian-security}

base="$cache/bookworm-minbase-$arch.tar.gz"
if [ ! -s "$base" ]; then
	say "debootstrap: bookworm minbase from $mirror (once; kept in $base)"
	start=$(date +%s%N)
	boot=$(mktemp -d)
	debootstrap --variant=minbase --arch="$arch" bookworm "$boot" "$mirror" >"$out/debootstrap.log" 2>&1 ||
		{ tail -20 "$out/debootstrap.log"; rm -rf "$boot"; exit 1; }
	tar -C "$boot" -czf "$base.tmp" . && mv "$base.tmp" "$base"
	rm -rf "$boot"
	say "debootstrap took $(ms_since "$start") ms"
fi

work=$(mktemp -d)
root="$work/root"
mounts=()
xvfb=""
# root_pids lists the processes running inside the root.
root_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && echo "${p#/proc/}"
	done
	return 0
}
stop_root_processes() { # signal
	local pids
	pids=$(root_pids)
	[ -z "$pids" ] || kill "-$1" $pids 2>/dev/null || true
}
cleanup() {
	set +e
	[ -n "$xvfb" ] && kill "$xvfb" 2>/dev/null
	stop_root_processes KILL # nothing started in the root outlives the test
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}"; done
	# Never delete through a mount point that is still there (it could be the host's /dev).
	if findmnt -rno TARGET | grep -q "^$root"; then
		echo "package-test: mounts left under $root; not deleting it"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
bind() { mkdir -p "$2"; mount "${@:3}" --bind "$1" "$2"; mounts+=("$2"); }

start=$(date +%s%N)
mkdir -p "$root"
tar -C "$root" -xzf "$base"
chmod 0755 "$root" # mktemp's 0700 would keep the agent user out of its own /
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d" # start no services
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc" && mounts+=("$root/proc")
mount -t sysfs sysfs "$root/sys" && mounts+=("$root/sys")
bind /dev "$root/dev"
bind /dev/pts "$root/dev/pts"
mount -t tmpfs shm "$root/dev/shm" && mounts+=("$root/dev/shm")
mount -t tmpfs tmp "$root/tmp" && mounts+=("$root/tmp")
bind "$cache/archives" "$root/var/cache/apt/archives"
say "clean root unpacked in $(ms_since "$start") ms"

# lintian reads the .deb itself; it runs meanwhile.
(lintian --tag-display-limit 0 --fail-on error,warning "$deb" >"$out/lintian.txt" 2>&1; echo $? >"$out/lintian.status") &
lintian_pid=$!

start=$(date +%s%N)
cp "$deb" "$root/tmp/"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
# A throwaway root needs no fsync after every file.
echo 'force-unsafe-io' >"$root/etc/dpkg/dpkg.cfg.d/unsafe-io"
in_root apt-get update -qq >"$out/apt-install.log" 2>&1
# By default only what the package depends on, which must be enough to run it (ldd and the
# start below); SWITCHBOARD_PACKAGE_TEST_RECOMMENDS=1 installs as a plain `apt install` does,
# with the recommended packages (457 packages on a minbase root, much slower).
recommends=--no-install-recommends
[ -z "${SWITCHBOARD_PACKAGE_TEST_RECOMMENDS:-}" ] || recommends=--install-recommends
in_root apt-get install -y $recommends "/tmp/$(basename "$deb")" >>"$out/apt-install.log" 2>&1 || { tail -30 "$out/apt-install.log"; exit 1; }
say "apt-get install $recommends ./$(basename "$deb"): $(grep -Eo '[0-9]+ newly installed' "$out/apt-install.log" | tail -1) in $(ms_since "$start") ms"
missing=$(in_root ldd /usr/bin/switchboard | grep 'not found' || true)
[ -z "$missing" ] || { say "libraries missing after install: $missing"; exit 1; }
say "ldd: every library /usr/bin/switchboard links is installed"
version=$(in_root switchboard version)
say "installed: $version"
grep -q "$(dpkg-deb -f "$deb" Version)" <<<"$version" || { say "switchboard version does not match the package"; exit 1; }

# What the package put on the menu, in the icon theme and in man.
desktop-file-validate "$root/usr/share/applications/switchboard.desktop" 2>&1 | tee -a "$report"
[ -z "$(desktop-file-validate "$root/usr/share/applications/switchboard.desktop" 2>&1)" ] || { say "desktop-file-validate complained"; exit 1; }
say "desktop-file-validate: usr/share/applications/switchboard.desktop is valid"
for size in 16x16 32x32 48x48 64x64 128x128 256x256 512x512 scalable; do
	ls "$root/usr/share/icons/hicolor/$size/apps/switchboard."* >/dev/null || { say "no $size icon"; exit 1; }
done
say "icons: hicolor 16 to 512 px and scalable"
man_warnings=$(MANWIDTH=80 man --warnings -l "$root/usr/share/man/man1/switchboard.1.gz" 2>&1 >/dev/null || true)
[ -z "$man_warnings" ] || { say "man page warnings: $man_warnings"; exit 1; }
say "man switchboard: $(MANWIDTH=80 man -l "$root/usr/share/man/man1/switchboard.1.gz" 2>/dev/null | sed -n '4p' | sed 's/^ *//')"

# The recommended Secret Service (gnome-keyring) and the test's own tool, dbus-run-session.
start=$(date +%s%N)
in_root apt-get install -y --no-install-recommends gnome-keyring dbus-bin >>"$out/apt-install.log" 2>&1
say "gnome-keyring (recommended) and dbus-bin (for the test) installed in $(ms_since "$start") ms"
in_root useradd -m -s /bin/sh agent
in_root install -d -o agent -g agent -m 0700 /tmp/agent-runtime
mkdir -p "$root/tmp/.X11-unix"

# A display on this machine, shared with the root through its socket.
Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp -ac 3>"$work/display" >"$out/xvfb.log" 2>&1 &
xvfb=$!
for _ in $(seq 1 100); do [ -s "$work/display" ] && break; sleep 0.1; done
display=$(cat "$work/display")
[ -n "$display" ] || { say "Xvfb did not start"; exit 1; }
bind /tmp/.X11-unix "$root/tmp/.X11-unix"

# launch NAME: starts the installed app as the agent, waits for the demo inbox and prints
# the milliseconds from exec to inbox (it runs in $(…), so messages go to stderr).
launch() {
	local log="$root/tmp/$1.log" t0
	rm -f "$root/tmp/exec-at"
	# The session bus and the keyring a desktop session already has start first; the clock
	# starts when switchboard itself is executed.
	chroot --userspec=agent:agent "$root" env -i HOME=/home/agent USER=agent LOGNAME=agent PATH=/usr/bin:/bin \
		LANG=C.UTF-8 DISPLAY=":$display" XDG_RUNTIME_DIR=/tmp/agent-runtime \
		dbus-run-session -- sh -c 'echo -n pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null; date +%s%N >/tmp/exec-at; exec switchboard --demo --demo-user ana@example.com' \
		>"$log" 2>&1 &
	app=$!
	for _ in $(seq 1 1200); do
		grep -q "inbox shown" "$log" && break
		kill -0 $app 2>/dev/null || { cp "$log" "$out/"; say "the installed app exited early" >&2; cat "$log" >&2; exit 1; }
		sleep 0.1
	done
	grep -q "inbox shown" "$log" || { cp "$log" "$out/"; say "the installed app never showed the inbox" >&2; exit 1; }
	# The log line's own time, against the moment switchboard was executed (one clock).
	t0=$(cat "$root/tmp/exec-at")
	shown=$(date -d "$(grep -m1 "inbox shown" "$log" | sed -n 's/^time=\([^ ]*\).*/\1/p')" +%s%N)
	echo $(( (shown - t0) / 1000000 ))
}

first=$(launch first-start)
say "installed app, first start (empty data: demo workspace created) to inbox: $first ms"
sleep 2 # let it paint
import -display ":$display" -window root "$out/package-installed.png"
colours=$(convert "$out/package-installed.png" -format %k info:)
[ "$colours" -ge 20 ] || { say "the screenshot looks blank ($colours colours)"; exit 1; }
say "screenshot: $out/package-installed.png ($colours colours)"
stop_root_processes TERM
for _ in $(seq 1 50); do [ -z "$(root_pids)" ] && break; sleep 0.1; done
stop_root_processes KILL
second=$(launch second-start)
say "installed app, second start (existing data) to inbox: $second ms"
cp "$root/tmp/first-start.log" "$root/tmp/second-start.log" "$out/"
stop_root_processes TERM
for _ in $(seq 1 50); do [ -z "$(root_pids)" ] && break; sleep 0.1; done
stop_root_processes KILL

in_root apt-get remove -y switchboard >>"$out/apt-install.log" 2>&1
[ ! -e "$root/usr/bin/switchboard" ] && [ ! -e "$root/usr/share/applications/switchboard.desktop" ] || { say "files left after apt-get remove"; exit 1; }
say "apt-get remove switchboard: program and menu entry gone"

wait $lintian_pid || true
if [ "$(cat "$out/lintian.status")" != 0 ]; then say "lintian:"; cat "$out/lintian.txt" | tee -a "$report"; exit 1; fi
say "lintian: no errors or warnings ($(grep -c '^[IP]:' "$out/lintian.txt" || true) informational tags)"
say "package test: ok"
