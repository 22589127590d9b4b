package api

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"switchboard/backend"
)

// A live view published while the hub's queue is full reaches the hub once
// it has room: a dropped view would leave supervisors on an older one.
func TestHub_PublishWaitsForABusyHub(t *testing.T) {
	h, published := publishToFullHub()
	// Give a Publish that gives up on a full queue the time to do so.
	select {
	case <-published:
	case <-time.After(100 * time.Millisecond):
	}
	var got []directFrame
	for len(got) <= sendBuffer {
		select {
		case d := <-h.direct:
			got = append(got, d)
		case <-time.After(5 * time.Second):
			t.Fatalf("the hub took %d frames, the %d queued before the live view and not the view itself", len(got), sendBuffer)
		}
	}
	<-published
	if last := got[sendBuffer]; last.event != backend.EventSupervisorLive {
		t.Fatalf("the last frame is %+v, want the live view", last)
	}
}

// Publish gives up once the hub has stopped.
func TestHub_PublishReturnsWhenTheHubStops(t *testing.T) {
	h, published := publishToFullHub()
	h.Close()
	select {
	case <-published:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish still waits on a hub that was closed")
	}
}

// publishToFullHub fills a hub's queue (its Run not started) and publishes
// a live view from another goroutine; the channel closes when Publish
// returns.
func publishToFullHub() (*Hub, <-chan struct{}) {
	h := NewHub(nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for range sendBuffer {
		h.direct <- directFrame{userID: "u1", frame: []byte(`{"type":"voice.incoming"}`)}
	}
	published := make(chan struct{})
	go func() {
		h.Publish(backend.EventSupervisorLive, []byte(`{"type":"supervisor.live"}`))
		close(published)
	}()
	return h, published
}
