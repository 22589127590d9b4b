// Package e2etest runs the agent desktop end to end: a real engine with the
// fake Twilio platform, two agents' apps in browser mode, and Playwright in
// Debian's Chromium driving both (frontend/e2e/agent.e2e.mjs). `make test`
// runs it with SWITCHBOARD_E2E=1 after building the frontend.
package e2etest
