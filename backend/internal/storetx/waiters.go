package storetx

import "sync"

// Waiters are a store's change-feed subscribers (backend.EventService's
// Notify), woken after a commit that appended events. The zero value is
// ready to use.
type Waiters struct {
	mu  sync.Mutex
	set map[chan struct{}]struct{}
}

// Wake signals every subscriber without blocking.
func (w *Waiters) Wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.set {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Notify returns a channel that is signalled after commits (signals
// coalesce) and the function that stops it.
func (w *Waiters) Notify() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.set == nil {
		w.set = map[chan struct{}]struct{}{}
	}
	w.set[ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		delete(w.set, ch)
		w.mu.Unlock()
	}
}
