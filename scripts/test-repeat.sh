#!/usr/bin/env bash
# test-repeat.sh runs the test suites many times and reports every test that
# failed even once, so a flaky test is found before CI finds it.
#
#   scripts/test-repeat.sh [-n RUNS] [-l] [-s SUITES] [-p PACKAGES]
#
#   -n RUNS      how many times each suite runs (default 5)
#   -l           keep both cores busy with a parallel build loop while the suites run
#   -s SUITES    comma-separated: go, browser, story (default all three)
#   -p PACKAGES  Go packages for the go suite (default ./...)
#
# The go suite is `go test -race -count=RUNS` (every test RUNS times); the
# browser suites are the Playwright files `npm run e2e` runs (inbox, widget,
# untrusted attachments, desktop), and the stories are the end-to-end tests
# that start their own engines (the agents', the admin's, the supervisor's,
# the call card and the web call), each started RUNS times, as `make e2e`
# runs them. Everything runs inside a
# private D-Bus session with an unlocked gnome-keyring, as in `make test`.
# Logs and the report go to build/test-output/repeat/ (with what a failed
# browser run wrote, its apps' logs and screenshots). Exits 1 when any test
# failed.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5 load=0 suites=go,browser,story pkgs=./...
while getopts "n:ls:p:" opt; do
	case $opt in
	n) runs=$OPTARG ;;
	l) load=1 ;;
	s) suites=$OPTARG ;;
	p) pkgs=$OPTARG ;;
	*) sed -n '2,16p' "$0"; exit 2 ;;
	esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "test-repeat: -n needs a positive number, not '$runs'" >&2; exit 2; }

out=build/test-output/repeat
rm -rf "$out" && mkdir -p "$out"
failures=$out/failures.txt
: >"$failures"
report=$out/report.txt
: >"$report"

loadpid=
stop_load() { [ -z "$loadpid" ] || { kill -- -"$loadpid" 2>/dev/null || true; wait "$loadpid" 2>/dev/null || true; }; }
trap stop_load EXIT
if [ "$load" = 1 ]; then
	# A parallel build from an empty cache, over and over: what a developer's
	# machine or a shared CI runner does to the tests' timing.
	loadcache=$(mktemp -d)
	set -m
	(while true; do GOCACHE=$loadcache go build -a -o /dev/null ./... >/dev/null 2>&1; rm -rf "$loadcache"/*; done) &
	loadpid=$!
	set +m
	echo "load: a parallel 'go build -a' loop (pid $loadpid)" | tee -a "$report"
fi

# in_session runs a command inside a private D-Bus session with an unlocked keyring.
in_session() {
	XDG_DATA_HOME=$(mktemp -d) SWITCHBOARD_REQUIRE_KEYRING=1 scripts/with-keyring.sh "$@"
}

# The root package embeds the built frontend.
[ -d frontend/dist ] || make -s frontend >/dev/null

elapsed() { echo $(( $(date +%s) - $1 ))s; }

has() { [[ ",$suites," == *",$1,"* ]]; }

if has go; then
	start=$(date +%s)
	echo "go: go test -race -count=$runs $pkgs" | tee -a "$report"
	in_session go test -race -count="$runs" -timeout 60m -json $pkgs >"$out/go.json" 2>"$out/go.stderr" || true
	# A failed test is a "fail" action that names a Test; a package that failed
	# to build or panicked outside a test is a "fail" without one.
	awk -F'"' '
		/"Action":"fail"/ {
			pkg = ""; test = "";
			for (i = 1; i < NF; i++) { if ($i == "Package") pkg = $(i+2); if ($i == "Test") test = $(i+2) }
			if (test == "") pkgfail[pkg]++; else { print "go " pkg " " test; testfail[pkg]++ }
		}
		END { for (p in pkgfail) if (!(p in testfail)) print "go " p " (the package failed outside any test)" }' "$out/go.json" >>"$failures"
	passed=$(grep -c '"Action":"pass","Package":"[^"]*","Test"' "$out/go.json" || true)
	echo "go: $passed test runs passed in $(elapsed "$start")" | tee -a "$report"
fi

if has browser || has story; then
	make -s build >/dev/null
	export SWITCHBOARD_BIN=$PWD/build/bin/switchboard
fi

if has browser; then
	for file in $(grep '"e2e":' frontend/package.json | grep -o 'e2e/[a-z-]*\.e2e\.mjs'); do
		file=frontend/$file
		name=$(basename "$file" .e2e.mjs)
		start=$(date +%s) ok=0
		for i in $(seq "$runs"); do
			touch "$out/.run-started"
			if in_session bash -c "cd frontend && node --test ../$file" >"$out/browser-$name-$i.log" 2>&1; then
				ok=$((ok + 1))
			else
				grep -E '^not ok' "$out/browser-$name-$i.log" | sed "s/^/browser $name run $i: /" >>"$failures" || true
				grep -qE '^not ok' "$out/browser-$name-$i.log" || echo "browser $name run $i: the suite failed to run" >>"$failures"
				# Keep what the failed run wrote (the apps' logs, screenshots): the next run overwrites it.
				mkdir -p "$out/browser-$name-$i"
				find build/test-output -maxdepth 1 -type f -name 'e2e-*' -newer "$out/.run-started" -exec cp {} "$out/browser-$name-$i/" \; || true
			fi
		done
		echo "browser $name: $ok of $runs runs passed in $(elapsed "$start")" | tee -a "$report"
	done
fi

if has story; then
	# Each story as `make e2e` runs it: the test's name and its package.
	for story in TestAgentDesktop:./app/e2etest TestDeskStory:./app/e2etest TestDeskEngineReplaced:./app/e2etest \
		TestAdminConsole:./app/e2etest TestCallControls:./app/e2etest TestSupervisorView:./app/e2etest \
		TestSupervisorJoinsCall:./app/e2etest TestWebCall:./app/softphone; do
		name=${story%%:*} pkg=${story#*:}
		start=$(date +%s) ok=0
		for i in $(seq "$runs"); do
			if in_session env SWITCHBOARD_E2E=1 go test -count=1 -v -run "^$name\$" "$pkg" >"$out/story-$name-$i.log" 2>&1; then
				ok=$((ok + 1))
			else
				grep -E -- '--- FAIL|^not ok' "$out/story-$name-$i.log" | sed "s/^/story $name run $i: /" >>"$failures" || true
				grep -qE -- '--- FAIL|^not ok' "$out/story-$name-$i.log" || echo "story $name run $i: the suite failed to run" >>"$failures"
			fi
		done
		echo "story $name: $ok of $runs runs passed in $(elapsed "$start")" | tee -a "$report"
	done
fi

if [ -s "$failures" ]; then
	echo "failures (each line once per failed run; logs in $out):" | tee -a "$report"
	sort "$failures" | uniq -c | sort -rn | tee -a "$report"
	exit 1
fi
echo "no test failed" | tee -a "$report"
