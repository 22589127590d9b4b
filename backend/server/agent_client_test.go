package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend"
)

// agentClient is an agent's desktop as the engine sees it over HTTP and
// the live WebSocket, on one node of a team (whichever its base URL names).
type agentClient struct {
	email, token string
	base         string
	http         *http.Client
}

// signInAgent signs an agent in on the node at base.
func signInAgent(base, email, password string) (*agentClient, error) {
	a := &agentClient{email: email, base: base, http: &http.Client{Timeout: 40 * time.Second}}
	var res struct{ Token string }
	st, body, err := a.call("POST", "/api/auth/signin", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
	if err != nil || st != http.StatusOK || json.Unmarshal(body, &res) != nil {
		return nil, fmt.Errorf("sign in %s: %d %s %v", email, st, body, err)
	}
	a.token = res.Token
	return a, nil
}

// call makes one API request and returns its status and body.
func (a *agentClient) call(method, path, body string) (int, []byte, error) {
	req, err := http.NewRequest(method, a.base+path, bytes.NewBufferString(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// must makes a request that must answer 200.
func (a *agentClient) must(method, path, body string) ([]byte, error) {
	st, b, err := a.call(method, path, body)
	if err == nil && st != http.StatusOK {
		err = fmt.Errorf("%s %s: %d %s", method, path, st, b)
	}
	return b, err
}

// feed is an agent's live WebSocket: frames of events after a sequence.
type feed struct {
	ws   *websocket.Conn
	next int64
}

// follow opens the agent's live feed from since.
func (a *agentClient) follow(ctx context.Context, since int64) (*feed, error) {
	url := "ws" + strings.TrimPrefix(a.base, "http") + fmt.Sprintf("/api/ws?since=%d", since)
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, url, http.Header{"Authorization": {"Bearer " + a.token}})
	if err != nil {
		return nil, err
	}
	return &feed{ws: ws, next: since}, nil
}

// read returns the events of the next frame.
func (f *feed) read() ([]backend.Event, error) {
	var frame struct {
		Type   string          `json:"type"`
		Events []backend.Event `json:"events"`
		Next   int64           `json:"next"`
	}
	for {
		if err := f.ws.ReadJSON(&frame); err != nil {
			return nil, err
		}
		if frame.Type == "events" {
			f.next = max(f.next, frame.Next)
			return frame.Events, nil
		}
	}
}

// offer returns the reservation an event offers to workerID, if it does.
func offer(e backend.Event, workerID string) (*backend.Reservation, bool) {
	if e.Type != backend.EventReservationUpserted {
		return nil, false
	}
	var r backend.Reservation
	if json.Unmarshal(e.Data, &r) != nil || r.WorkerID != workerID || r.State != backend.ReservationPending {
		return nil, false
	}
	return &r, true
}
