# Switchboard: `make run` sets up and starts the desktop app with demo data;
# `make test` sets up and runs every test. Both install what is missing.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

WAILS_VERSION := v2.16.0
GOBIN := $(shell go env GOPATH)/bin
WAILS := $(GOBIN)/wails
BIN := build/bin/switchboard
OUT := build/test-output
DEB_PACKAGES := build-essential pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev xvfb xauth imagemagick \
	chromium gnome-keyring dbus-daemon sip-tester curl desktop-file-utils man-db openbox xdotool x11-utils wmctrl \
	dovecot-imapd postgresql
# For `make package`: icons, dependencies, the man page and lintian; for `make package-test`: a clean root.
PACKAGE_DEB_PACKAGES := librsvg2-bin imagemagick dpkg-dev desktop-file-utils lintian man-db debootstrap xvfb
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ARCH := $(shell dpkg --print-architecture)
ICON_SIZES := 16 24 32 48 64 128 256
GO_TEST_FLAGS ?= -race -count=1 -timeout 15m

# make test-repeat [N=5] [LOAD=1] [SUITES=go,browser,story]: every suite N times, failures reported.
N ?= 5
SUITES ?= go,browser,story

# What `switchboard version` and the About box show.
VERSION := $(shell sed -n 's/.*"productVersion": *"\([^"]*\)".*/\1/p' wails.json)
COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
BUILD_DATE := $(shell git log -1 --format=%cs 2>/dev/null)
LDFLAGS := -X switchboard/app.Version=$(VERSION) -X switchboard/app.Commit=$(COMMIT) -X switchboard/app.BuildDate=$(BUILD_DATE)
DEB := build/bin/switchboard_$(VERSION)_$(ARCH).deb

.PHONY: test-repeat layout-check run test deps deb-deps npm-deps wails-cli frontend build go-vet go-test crash-test multinode-test frontend-test e2e desktop-test bench bench-desktop-memory clean \
	icons package package-deps package-deb package-windows package-test package-lint

run: deps build
	./$(BIN) --demo

test: deps layout-check go-vet frontend-test package-lint build go-test crash-test multinode-test e2e desktop-test
	@echo "make test: all suites passed"

deps: deb-deps npm-deps wails-cli

# apt-install installs those of the Debian packages in $(1) that are missing.
define apt-install
missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done)
if [ -n "$$missing" ]; then
	echo "installing Debian packages: $$missing"
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null
fi
endef

deb-deps:
	$(call apt-install,$(DEB_PACKAGES))

npm-deps: frontend/node_modules/.package-lock.json

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

wails-cli:
	# grep reads to the end: with -q it would stop early, wails would get SIGPIPE and pipefail would
	# count the pinned CLI as missing.
	if ! $(WAILS) version 2>/dev/null | grep "$(WAILS_VERSION)" >/dev/null; then
		echo "installing the Wails CLI $(WAILS_VERSION)"
		GOFLAGS= go install github.com/wailsapp/wails/v2/cmd/wails@$(WAILS_VERSION)
	fi

frontend: npm-deps
	cd frontend && npm run build

# The desktop binary (Wails; WebKitGTK 4.1 on Debian 12).
build: frontend wails-cli
	mkdir -p $(OUT)
	GOFLAGS=-buildmode=pie $(WAILS) build -tags webkit2_41 -s -m -nosyncgomod -ldflags "$(LDFLAGS)" -o switchboard >$(OUT)/wails-build.log 2>&1 || { cat $(OUT)/wails-build.log; exit 1; }
	echo "built $(BIN)"

# The layout's import rules (ARCHITECTURE.md): backend imports only the standard
# library, nothing under backend/ or channels/ reaches Wails or app/.
layout-check:
	bad=$$(go list -f '{{if not .Standard}}{{.ImportPath}}{{end}}' -deps ./backend | grep -v '^switchboard/backend$$' || true)
	[ -z "$$bad" ] || { echo "backend imports more than the standard library: $$bad"; exit 1; }
	bad=$$(go list -deps ./backend/... ./channels/... | grep -E 'wailsapp|^switchboard/app' || true)
	[ -z "$$bad" ] || { echo "backend or channels reach the desktop layer: $$bad"; exit 1; }
	echo "layout: backend is standard-library only; backend/... and channels/... import no Wails and no app/"

go-vet: frontend
	go vet ./...

# Go tests run under a private D-Bus session with an unlocked gnome-keyring,
# so the keyring tests use a real Secret Service.
go-test: frontend
	export XDG_DATA_HOME=$$(mktemp -d) XDG_CONFIG_HOME=$$(mktemp -d) XDG_STATE_HOME=$$(mktemp -d) SWITCHBOARD_REQUIRE_KEYRING=1
	scripts/with-keyring.sh go test $(GO_TEST_FLAGS) ./...

# The whole engine in a child process under signed webhook load, SIGKILLed
# 20 times: every acknowledged message stored once and seen by its flow once,
# no reply sent twice. Without the race detector (go-test skips it there):
# its child engines are the test binary, ten times slower under -race.
crash-test: frontend
	mkdir -p $(OUT)
	go test -count=1 -timeout 10m -v -run 'TestCrash_WholeEngineKilled20Times' ./backend/server | tee $(OUT)/crash-test.log | grep -E '^(--- |ok|FAIL|PASS)|crash test:'

# Two serve nodes on one PostgreSQL database (started by the test from
# Debian's package) under signed webhook load, agents on both, the routing
# leader SIGKILLed halfway: every acknowledged message stored once, no task
# reserved twice, no reply sent twice, the takeover time logged. Without the
# race detector, like crash-test.
multinode-test: frontend
	mkdir -p $(OUT)
	go test -count=1 -timeout 10m -v -run 'TestMultiNode_LeaderKilledMidLoad' ./backend/server | tee $(OUT)/multinode-test.log | grep -E '^(--- |ok|FAIL|PASS)|multi-node test:'

frontend-test: npm-deps
	cd frontend && npm test

# Playwright (playwright-core + Debian's Chromium) against the real app in browser mode:
# the inbox, the web chat widget and untrusted attachments, then the agents' stories
# (app/e2etest starts a real engine, the fake Twilio platform and the agents' apps for
# them): two agents and an offer; the desk (a web chat visitor rejected, re-offered and
# taken from My queues, with screenshots and layout checks at 900 and 1,600 px in
# English and Spanish); the desktop when its session expires or its engine's store is
# replaced; the admin's console, the supervisor's live view under a load generator with
# simulated agents, a web call from the widget (fake media devices) to a Go softphone,
# the call card (answer, hold, resume, hang up) with a SIP caller, an outbound call dialed
# in the app to sipp as the carrier, and a supervisor
# joining an agent's call (listen, whisper, barge, leave).
e2e: build
	mkdir -p $(OUT)
	export XDG_DATA_HOME=$$(mktemp -d) XDG_CONFIG_HOME=$$(mktemp -d) XDG_STATE_HOME=$$(mktemp -d) SWITCHBOARD_BIN=$(CURDIR)/$(BIN)
	scripts/with-keyring.sh bash -c '(cd frontend && npm run e2e) \
		&& SWITCHBOARD_E2E=1 go test -v -count=1 -run "TestAgentDesktop|TestDesk|TestAdminConsole|TestCallControls|TestSupervisorView|TestSupervisorJoinsCall" ./app/e2etest \
		&& SWITCHBOARD_E2E=1 go test -v -count=1 -run TestWebCall ./app/softphone'

# The real desktop window under Xvfb: it starts, the frontend calls Go, a screenshot is taken;
# then again during a phone call from sipp that the app answers; then a second launch must hand
# over to the first window (under openbox) and exit.
desktop-test: build
	scripts/desktop-smoke.sh $(BIN) $(OUT)/desktop.png
	WAIT_FOR='inbox shown' scripts/desktop-smoke.sh $(BIN) $(OUT)/desktop-inbox.png --demo-user ana@example.com
	grep -Eq 'inbox shown.* conversations=[1-9]' $(OUT)/desktop-inbox.log || { echo "the desktop never showed the seeded inbox"; exit 1; }
	WAIT_FOR='supervisor view shown' MIN_COLOURS=1000 scripts/desktop-smoke.sh $(BIN) $(OUT)/desktop-supervisor.png --demo-user admin@example.com --demo-screen supervisor
	grep -Eq 'supervisor view shown.* queues=[1-9]' $(OUT)/desktop-supervisor.log || { echo "the desktop never showed the supervisor's screen"; exit 1; }
	scripts/desktop-call.sh $(BIN) $(OUT)/desktop-call.png
	scripts/single-instance-test.sh $(BIN) $(OUT)

# The menu entry and the man page the packages ship (seconds; the full install test is package-test).
package-lint:
	desktop-file-validate build/linux/switchboard.desktop
	out=$$(sed -e 's/@VERSION@/$(VERSION)/' -e 's/@DATE@/$(BUILD_DATE)/' build/linux/switchboard.1 | MANWIDTH=80 man --warnings -l - 2>&1 >/dev/null)
	[ -z "$$out" ] || { echo "man page: $$out"; exit 1; }
	echo "package-lint: switchboard.desktop is valid; the man page renders without warnings"

# Packages: the .deb always, the Windows installer when mingw-w64 and nsis are installed.
package: package-deb package-windows

package-deps:
	$(call apt-install,$(PACKAGE_DEB_PACKAGES))

package-deb: deps package-deps build
	scripts/package-deb.sh $(BIN) $(VERSION) $(COMMIT) build/bin

# Cross-built with Debian's mingw-w64 (cgo) and packed by Debian's nsis; a per-user install
# (no administrator rights) with a Start-menu entry. Skipped, saying so, without the toolchain.
package-windows: frontend wails-cli
	if ! command -v x86_64-w64-mingw32-gcc >/dev/null || ! command -v makensis >/dev/null; then
		echo "package-windows: skipped, no cross toolchain (apt-get install mingw-w64 nsis to build the installer)"
		exit 0
	fi
	mkdir -p $(OUT)
	CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++ $(WAILS) build -platform windows/amd64 -nsis -installscope user \
		-s -m -nosyncgomod -ldflags "$(LDFLAGS)" -o switchboard.exe >$(OUT)/wails-windows.log 2>&1 || { cat $(OUT)/wails-windows.log; exit 1; }
	ls -l build/bin/switchboard.exe build/bin/switchboard-$(VERSION)-amd64-installer.exe

# Installs the .deb into a clean Debian 12 root (debootstrap, cached after the first run) and
# runs it there under Xvfb. Several minutes, so not part of `make test`.
package-test: package-deb
	scripts/package-test.sh $(DEB) $(OUT)

# Redraws build/appicon.png (what Wails reads) and build/windows/icon.ico from build/appicon.svg.
icons: package-deps
	rsvg-convert -w 1024 -h 1024 build/appicon.svg -o build/appicon.png
	tmp=$$(mktemp -d)
	for s in $(ICON_SIZES); do rsvg-convert -w $$s -h $$s build/appicon.svg -o $$tmp/$$s.png; done
	convert $(foreach s,$(ICON_SIZES),$$tmp/$(s).png) build/windows/icon.ico
	rm -rf $$tmp

# Every suite N times (with LOAD=1, under a parallel build): lists each test
# that failed in any run. See scripts/test-repeat.sh.
test-repeat: deps frontend
	scripts/test-repeat.sh -n $(N) -s $(SUITES) $(if $(LOAD),-l)

# Every Go benchmark once, then the load generator against the real binary
# for a short fixed time as a smoke check (BENCHMARKS.md has the full runs).
bench: build
	mkdir -p $(OUT)
	go test -run '^$$' -bench . -benchtime 1x ./... | tee $(OUT)/bench.txt
	go run ./scripts/loadgen -bin $(BIN) -rate 100 -duration 10s -agents 20 -check | tee $(OUT)/loadgen.txt

# The desktop's memory (PSS of its whole process tree) with 100,000 cached
# messages, in the real window under Xvfb; see BENCHMARKS.md.
bench-desktop-memory: build
	scripts/desktop-memory.sh $(BIN) 100000 | tee $(OUT)/desktop-memory.txt

clean:
	rm -rf build/bin $(OUT) frontend/dist frontend/wailsjs
