package api

import (
	"sync"
	"time"
)

// Sign-in throttling: after accountFailures wrong passwords for one account,
// or clientFailures from one client address, within throttleWindow, further
// attempts are refused (429) until the window that began with the first
// failure has passed. Refused attempts cost no password hash, so the
// route cannot be used to exhaust the CPU either.
const (
	accountFailures = 5
	clientFailures  = 20
	throttleWindow  = 15 * time.Minute
)

// throttle counts failed sign-ins per account and per client address.
type throttle struct {
	mu      sync.Mutex
	entries map[string]*failures
	swept   time.Time
}

type failures struct {
	count int
	since time.Time
}

func newThrottle() *throttle { return &throttle{entries: map[string]*failures{}} }

func accountKey(account string) string { return "account:" + account }
func clientKey(ip string) string       { return "client:" + ip }

// wait returns how long the account or client must wait before trying
// again (0: they may try now).
func (t *throttle) wait(now time.Time, account, ip string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now)
	var wait time.Duration
	for key, limit := range map[string]int{accountKey(account): accountFailures, clientKey(ip): clientFailures} {
		f := t.entries[key]
		if f == nil || f.count < limit {
			continue
		}
		if w := f.since.Add(throttleWindow).Sub(now); w > wait {
			wait = w
		}
	}
	return wait
}

// fail counts a failed attempt.
func (t *throttle) fail(now time.Time, account, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, key := range []string{accountKey(account), clientKey(ip)} {
		f := t.entries[key]
		if f == nil || !now.Before(f.since.Add(throttleWindow)) {
			f = &failures{since: now}
			t.entries[key] = f
		}
		f.count++
	}
}

// succeed forgets an account's failures once its password was right (the
// client address keeps its count).
func (t *throttle) succeed(account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, accountKey(account))
}

// sweep drops windows that have passed, at most once a minute, so the map
// does not grow with every address ever seen.
func (t *throttle) sweep(now time.Time) {
	if now.Sub(t.swept) < time.Minute {
		return
	}
	t.swept = now
	for key, f := range t.entries {
		if !now.Before(f.since.Add(throttleWindow)) {
			delete(t.entries, key)
		}
	}
}
