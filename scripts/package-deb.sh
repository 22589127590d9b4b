#!/usr/bin/env bash
# Builds the Debian package from the desktop binary `make build` made:
# the binary, the icon in the hicolor sizes (rendered from build/appicon.svg),
# the menu entry, the man page, the copyright and changelog, and the shared
# libraries the binary links declared as dependencies by dpkg-shlibdeps.
# Usage: scripts/package-deb.sh BINARY VERSION COMMIT OUTPUT-DIR
set -euo pipefail
bin=$(realpath "${1:?binary}")
version=${2:?version}
commit=${3:?commit}
out=$(realpath -m "${4:?output directory}")
root=$(cd "$(dirname "$0")/.." && pwd)
arch=$(dpkg --print-architecture)
name=switchboard
maintainer="Switchboard authors <switchboard@example.org>"
date_rfc=$(git -C "$root" log -1 --format=%aD 2>/dev/null || date -R)
date_day=$(git -C "$root" log -1 --format=%cs 2>/dev/null || date +%F)

for tool in rsvg-convert dpkg-shlibdeps dpkg-deb; do
	command -v "$tool" >/dev/null || { echo "package-deb: $tool is missing (make deps installs it)"; exit 1; }
done

stage="$root/build/deb/${name}_${version}_${arch}"
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$out"

# The program.
install -D -m 0755 "$bin" "$stage/usr/bin/$name"

# The icon: every hicolor size a menu, a dock or a window switcher asks for, and the SVG.
for size in 16 22 24 32 48 64 128 256 512; do
	dir="$stage/usr/share/icons/hicolor/${size}x${size}/apps"
	mkdir -p "$dir"
	rsvg-convert -w "$size" -h "$size" "$root/build/appicon.svg" -o "$dir/$name.png"
done
install -D -m 0644 "$root/build/appicon.svg" "$stage/usr/share/icons/hicolor/scalable/apps/$name.svg"

# The menu entry and the man page.
install -D -m 0644 "$root/build/linux/$name.desktop" "$stage/usr/share/applications/$name.desktop"
mkdir -p "$stage/usr/share/man/man1"
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$date_day/" "$root/build/linux/$name.1" | gzip -9n >"$stage/usr/share/man/man1/$name.1.gz"

# Copyright and changelog (Debian policy 12.5 and 12.7).
doc="$stage/usr/share/doc/$name"
install -D -m 0644 "$root/build/linux/copyright" "$doc/copyright"
printf '%s (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- %s  %s\n' \
	"$name" "$version" "$commit" "$maintainer" "$date_rfc" | gzip -9n >"$doc/changelog.gz"

# The shared libraries the binary needs, as package dependencies.
shlib=$(mktemp -d)
trap 'rm -rf "$shlib"' EXIT
mkdir -p "$shlib/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$name" "$name" >"$shlib/debian/control"
depends=$(cd "$shlib" && dpkg-shlibdeps -O -e"$stage/usr/bin/$name" 2>"$shlib/warnings" | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "package-deb: dpkg-shlibdeps found no dependencies"; cat "$shlib/warnings"; exit 1; }

installed_kb=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<EOF
Package: $name
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_kb
Depends: $depends
Recommends: gnome-keyring
Section: net
Priority: optional
Description: omnichannel contact center for agents' desktops
 Switchboard gathers what customers send on SMS, WhatsApp, Messenger,
 Instagram, LINE, Telegram, Discord, email, a website's chat widget and the
 phone into one inbox. A flow decides whether a bot answers or a person is
 needed, and a router offers the work to the best-suited available agent.
 .
 The desktop app runs the engine itself for a single agent or a small shop,
 or signs in to a team's server (switchboard serve). It keeps a local cache,
 works offline and keeps the session token in the desktop's keyring
 (gnome-keyring or any other Secret Service).
EOF

deb="$out/${name}_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "built $deb ($(du -h "$deb" | cut -f1); installed $((installed_kb / 1024)) MiB)"
echo "Depends: $depends"
