package storetx_test

import (
	"testing"

	"switchboard/backend/internal/storetx"
)

func TestWaiters_WakeCoalescesAndStops(t *testing.T) {
	var w storetx.Waiters
	w.Wake() // nobody listens yet: nothing blocks
	a, stopA := w.Notify()
	b, stopB := w.Notify()
	defer stopB()
	w.Wake()
	w.Wake() // a second wake before anyone read coalesces into the first
	for name, ch := range map[string]<-chan struct{}{"a": a, "b": b} {
		select {
		case <-ch:
		default:
			t.Fatalf("subscriber %s was not woken", name)
		}
		select {
		case <-ch:
			t.Fatalf("subscriber %s was woken twice for coalesced wakes", name)
		default:
		}
	}
	stopA()
	w.Wake()
	select {
	case <-a:
		t.Fatal("a stopped subscriber was woken")
	default:
	}
	select {
	case <-b:
	default:
		t.Fatal("the remaining subscriber was not woken")
	}
}
