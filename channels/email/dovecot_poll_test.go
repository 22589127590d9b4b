package email_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"switchboard/backend"
)

// TestDovecot_ReconnectsAndCatchesUp: Dovecot drops the connection three
// times (doveadm kick) and the engine stops once; mail that arrives
// meanwhile is stored once each, the poller reconnecting after about a
// second each time.
func TestDovecot_ReconnectsAndCatchesUp(t *testing.T) {
	mb := newMailbox(t, "mailbox-password")
	mail := func(n int) {
		mb.deliver(t, fmt.Sprintf("From: lee@example.net\nTo: support@shop.example\nSubject: Order %d\nMessage-ID: <lee%d@example.net>\n\nOrder %d.\n", n, n, n))
	}
	mail(0)
	mb.stored(t, 1)
	for drop := 1; drop <= 3; drop++ {
		before := status(t, mb).RetryAt
		if err := mb.dv.Kick(mb.user); err != nil {
			t.Fatal(err)
		}
		mail(drop)
		var st *backend.ChannelStatus
		waitFor(t, "the reconnect to be planned", func() bool {
			st = status(t, mb)
			return st.RetryAt.After(before) && mb.env.Clock.Waiting(st.RetryAt)
		})
		if wait := st.RetryAt.Sub(mb.env.Clock.Now()); wait > 1200*time.Millisecond {
			t.Fatalf("drop %d: reconnects after %v", drop, wait)
		}
		mb.env.Clock.Advance(st.RetryAt.Sub(mb.env.Clock.Now()))
		mb.stored(t, drop+1)
	}
	// The engine stops; mail arrives; it starts again.
	mb.env.Restart()
	mail(4)
	mail(5)
	start(t, mb.env.Hub)
	msgs := mb.stored(t, 6)
	seen := map[string]bool{}
	for _, m := range msgs {
		if seen[m.ExternalID] {
			t.Fatalf("%s stored twice", m.ExternalID)
		}
		seen[m.ExternalID] = true
	}
	if len(msgs) != 6 {
		t.Fatalf("%d messages stored, want 6", len(msgs))
	}
}

func status(t *testing.T, mb *mailbox) *backend.ChannelStatus {
	t.Helper()
	list, err := mb.env.Hub.Statuses(context.Background(), "")
	if err != nil || len(list) != 1 {
		t.Fatalf("statuses %v %v", list, err)
	}
	return list[0]
}

// TestDovecot_RefusedLoginStops: Dovecot refusing the login stops the
// instance with the reason in its health instead of retrying forever.
func TestDovecot_RefusedLoginStops(t *testing.T) {
	mb := newMailbox(t, "not-the-password")
	var st *backend.ChannelStatus
	waitFor(t, "the instance to stop", func() bool { st = status(t, mb); return st.State == backend.ChannelStopped })
	if st.Error == "" || !st.RetryAt.IsZero() {
		t.Fatalf("health %+v", st)
	}
}
