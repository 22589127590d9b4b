package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend"
	"switchboard/backend/api"
)

func dialFeed(tb testing.TB, e *testEngine, token string, since int64) *websocket.Conn {
	tb.Helper()
	url := strings.Replace(e.URL, "http://", "ws://", 1) + fmt.Sprintf("/api/ws?since=%d", since)
	conn, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		tb.Fatalf("dial: %v (%v)", err, resp)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// readSeqs reads frames until n events arrived and returns their sequences.
func readSeqs(tb testing.TB, conn *websocket.Conn, n int) []int64 {
	tb.Helper()
	var seqs []int64
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for len(seqs) < n {
		var f api.Frame
		if err := conn.ReadJSON(&f); err != nil {
			tb.Fatalf("read after %d of %d events: %v", len(seqs), n, err)
		}
		for _, e := range f.Events {
			seqs = append(seqs, e.Seq)
		}
	}
	return seqs
}

func storeN(tb testing.TB, e *testEngine, prefix string, n int) {
	tb.Helper()
	if err := storeErr(e, prefix, n); err != nil {
		tb.Fatal(err)
	}
}

func storeErr(e *testEngine, prefix string, n int) error {
	for i := 0; i < n; i++ {
		_, _, err := e.DB.StoreInbound(context.Background(), &backend.InboundMessage{
			Channel: "telegram", Instance: "bot", ExternalUserID: prefix, ExternalID: fmt.Sprintf("%s-%d", prefix, i), Text: "m",
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func TestHub_ReplayThenLiveWithoutGaps(t *testing.T) {
	e := MustStartEngine(t)
	token := e.SignIn(t, "admin@example.com") // sees every conversation
	storeN(t, e, "a", 5)                      // 1 contact + 5 messages + 5 conversation updates = 11 events
	conn := dialFeed(t, e, token, 3)
	storeN(t, e, "a", 0)
	errc := make(chan error, 1)
	go func() { errc <- storeErr(e, "b", 5) }() // 11 more, while the client is catching up
	seqs := readSeqs(t, conn, 19)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	for i, s := range seqs {
		if s != int64(i+4) {
			t.Fatalf("seq[%d] = %d; got %v", i, s, seqs)
		}
	}
}

func TestHub_ConcurrentBroadcastToManyClients(t *testing.T) {
	e := MustStartEngine(t)
	token := e.SignIn(t, "admin@example.com") // sees every conversation
	const clients, writers, perWriter = 8, 4, 10
	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		conns[i] = dialFeed(t, e, token, 0)
	}
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := storeErr(e, fmt.Sprintf("w%d", w), perWriter); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	want := writers * (1 + 2*perWriter)
	var rg sync.WaitGroup
	for i, c := range conns {
		rg.Add(1)
		go func() {
			defer rg.Done()
			seqs := readSeqs(t, c, want)
			for j, s := range seqs {
				if s != int64(j+1) {
					t.Errorf("client %d: seq[%d] = %d", i, j, s)
					return
				}
			}
		}()
	}
	rg.Wait()
}

func TestHub_RefusesWithoutToken(t *testing.T) {
	e := MustStartEngine(t)
	url := strings.Replace(e.URL, "http://", "ws://", 1) + "/api/ws"
	_, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("dial without token: err=%v resp=%v", err, resp)
	}
}
