#!/usr/bin/env bash
# with-keyring.sh runs a command inside a private D-Bus session with an
# unlocked gnome-keyring, as a signed-in desktop has, for the tests:
#
#   scripts/with-keyring.sh go test ./app/keychain/...
#
# It waits until the keyring owns org.freedesktop.secrets before it starts the
# command: a request that came first would make D-Bus start a second, locked
# keyring daemon from its service file, and the two would fight over the name
# ("Message recipient disconnected").
set -euo pipefail
if [ -z "${SWITCHBOARD_IN_KEYRING_SESSION:-}" ]; then
	export SWITCHBOARD_IN_KEYRING_SESSION=1
	# dbus-run-session cannot raise the fd limit in containers and says so on every start.
	exec dbus-run-session -- "$0" "$@" 2> >(grep -v "Failed to set fd limit" >&2)
fi
unset SWITCHBOARD_IN_KEYRING_SESSION
echo -n pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null
gdbus wait --session --timeout 20 org.freedesktop.secrets
exec "$@"
