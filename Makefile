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
	chromium gnome-keyring dbus-daemon sip-tester
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
GO_TEST_FLAGS ?= -race -count=1 -timeout 15m

.PHONY: layout-check run test deps deb-deps npm-deps wails-cli frontend build go-vet go-test frontend-test e2e desktop-test bench bench-desktop-memory clean

run: deps build
	./$(BIN) --demo

test: deps layout-check go-vet frontend-test build go-test e2e desktop-test
	@echo "make test: all suites passed"

deps: deb-deps npm-deps wails-cli

deb-deps:
	missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done)
	if [ -n "$$missing" ]; then
		echo "installing Debian packages: $$missing"
		$(SUDO) apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null
	fi

npm-deps: frontend/node_modules/.package-lock.json

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

wails-cli:
	if ! $(WAILS) version 2>/dev/null | grep -q "$(WAILS_VERSION)"; then
		echo "installing the Wails CLI $(WAILS_VERSION)"
		GOFLAGS= go install github.com/wailsapp/wails/v2/cmd/wails@$(WAILS_VERSION)
	fi

frontend: npm-deps
	cd frontend && npm run build

# The desktop binary (Wails; WebKitGTK 4.1 on Debian 12).
build: frontend wails-cli
	mkdir -p $(OUT)
	$(WAILS) build -tags webkit2_41 -s -m -nosyncgomod -o switchboard >$(OUT)/wails-build.log 2>&1 || { cat $(OUT)/wails-build.log; exit 1; }
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
	export XDG_DATA_HOME=$$(mktemp -d) SWITCHBOARD_REQUIRE_KEYRING=1
	dbus-run-session -- bash -c 'echo -n pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null; go test $(GO_TEST_FLAGS) ./...' \
		2> >(grep -v "Failed to set fd limit" >&2)

frontend-test: npm-deps
	cd frontend && npm test

# Playwright (playwright-core + Debian's Chromium) against the real app in browser mode:
# the inbox and the web chat widget, then the agents' stories (app/e2etest starts a
# real engine, the fake Twilio platform and the agents' apps for them): two agents
# and an offer; the desk (a web chat visitor rejected, re-offered and taken from My
# queues, with screenshots and layout checks at 900 and 1,600 px in English and
# Spanish); the desktop when its session expires or its engine's store is replaced.
e2e: build
	mkdir -p $(OUT)
	export XDG_DATA_HOME=$$(mktemp -d) SWITCHBOARD_BIN=$(CURDIR)/$(BIN)
	dbus-run-session -- bash -c 'echo -n pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
		(cd frontend && npm run e2e) && SWITCHBOARD_E2E=1 go test -v -count=1 -run "TestAgentDesktop|TestDesk" ./app/e2etest' \
		2> >(grep -v "Failed to set fd limit" >&2)

# The real desktop window under Xvfb: it starts, the frontend calls Go, a screenshot is taken.
desktop-test: build
	scripts/desktop-smoke.sh $(BIN) $(OUT)/desktop.png
	scripts/desktop-smoke.sh $(BIN) $(OUT)/desktop-inbox.png --demo-user ana@example.com
	grep -Eq 'inbox shown.* conversations=[1-9]' $(OUT)/desktop-inbox.log || { echo "the desktop never showed the seeded inbox"; exit 1; }

bench:
	mkdir -p $(OUT)
	go test -run '^$$' -bench . -benchtime 1x ./... | tee $(OUT)/bench.txt

# The desktop's memory (PSS of its whole process tree) with 100,000 cached
# messages, in the real window under Xvfb; see BENCHMARKS.md.
bench-desktop-memory: build
	scripts/desktop-memory.sh $(BIN) 100000 | tee $(OUT)/desktop-memory.txt

clean:
	rm -rf build/bin $(OUT) frontend/dist frontend/wailsjs
