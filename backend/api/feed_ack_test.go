package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend"
	"switchboard/backend/api"
)

// feedReader reads a live socket's frames and pongs in the background.
type feedReader struct {
	conn   *websocket.Conn
	frames chan api.Frame
	pongs  chan string
}

func readFeed(conn *websocket.Conn) *feedReader {
	r := &feedReader{conn: conn, frames: make(chan api.Frame, 1024), pongs: make(chan string, 8)}
	conn.SetPongHandler(func(data string) error { r.pongs <- data; return nil })
	go func() {
		defer close(r.frames)
		for {
			var f api.Frame
			if err := conn.ReadJSON(&f); err != nil {
				return
			}
			r.frames <- f
		}
	}()
	return r
}

// until reads frames until one brings the socket to seq.
func (r *feedReader) until(t *testing.T, seq int64) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case f, ok := <-r.frames:
			if !ok {
				t.Fatal("the feed closed")
			}
			if f.Next >= seq {
				return
			}
		case <-deadline:
			t.Fatalf("the feed did not reach %d", seq)
		}
	}
}

// ack acknowledges seq and returns once the engine has handled it: the
// engine reads a socket's frames in order, so the answer to a ping sent
// after the acknowledgement comes after it was recorded.
func (r *feedReader) ack(t *testing.T, seq int64) {
	t.Helper()
	if err := r.conn.WriteJSON(api.FeedAck{Type: "feed.ack", Seq: seq}); err != nil {
		t.Fatal(err)
	}
	mark := fmt.Sprint("after-ack-", seq)
	if err := r.conn.WriteControl(websocket.PingMessage, []byte(mark), time.Now().Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case p := <-r.pongs:
			if p == mark {
				return
			}
		case <-deadline:
			t.Fatal("no answer to the ping after the acknowledgement")
		}
	}
}

// A desktop that follows the live socket, and so never asks GET /api/sync
// for pages, acknowledges what it applied; the engine records that as its
// session's cursor, never past what the socket sent, and pruning goes as
// far as it.
func TestFeedAck_LetsPruningProceed(t *testing.T) {
	e := MustStartEngine(t)
	token := e.SignIn(t, "admin@example.com")
	ctx := context.Background()
	prune := func() backend.PruneResult {
		t.Helper()
		// An hour on, everything is past the grace period.
		res, err := e.DB.PruneEvents(ctx, backend.PruneRequest{Now: time.Now().Add(time.Hour), Grace: time.Minute, Retention: 30 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	start, _ := e.DB.LastSeq(ctx)
	var page api.SyncResponse
	if status := e.Do(t, token, "GET", fmt.Sprintf("/api/sync?since=%d", start), "", &page); status != http.StatusOK {
		t.Fatalf("sync: %d", status)
	}
	r := readFeed(dialFeed(t, e, token, start))
	storeN(t, e, "live", 10)
	head, _ := e.DB.LastSeq(ctx)
	r.until(t, head)
	if res := prune(); res.Floor > start {
		t.Fatalf("pruning went to %d past the cursor %d the sync route recorded", res.Floor, start)
	}

	// An acknowledgement past what the socket sent counts as far as it sent.
	r.ack(t, head+1000)
	res := prune()
	if res.Floor <= start || res.Floor > head {
		t.Fatalf("after the desktop acknowledged %d, pruning reached %d (from %d)", head, res.Floor, start)
	}
	storeN(t, e, "later", 5)
	later, _ := e.DB.LastSeq(ctx)
	r.until(t, later)
	if res := prune(); res.Floor > head {
		t.Fatalf("pruning reached %d, past the %d the socket had sent when acknowledged", res.Floor, head)
	}
	var rest api.SyncResponse
	if status := e.Do(t, token, "GET", fmt.Sprintf("/api/sync?since=%d", head), "", &rest); status != http.StatusOK || rest.Behind || rest.Next != later {
		t.Fatalf("the feed after the acknowledged position: %d %+v", status, rest)
	}
}
