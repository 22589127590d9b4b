// Package client talks to a Switchboard engine over its HTTP and WebSocket
// API. The desktop uses it for the embedded engine and for a team server
// alike, so both paths are the same code.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend"
)

// Client is an API client for one engine and (once signed in) one user.
type Client struct {
	// BaseURL is the engine's URL, e.g. http://127.0.0.1:8080.
	BaseURL string
	// Token is the bearer token; empty until SignIn.
	Token string
	HTTP  *http.Client
}

// New returns a client for the engine at baseURL.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// SignInResult is what a successful sign-in returns.
type SignInResult struct {
	Token   string               `json:"token"`
	User    backend.User         `json:"user"`
	LastSeq int64                `json:"lastSeq"`
	Engine  backend.FeedIdentity `json:"engine"`
}

// SignIn exchanges an email and password for a token and keeps it.
func (c *Client) SignIn(ctx context.Context, email, password string) (*SignInResult, error) {
	var res SignInResult
	if err := c.do(ctx, "POST", "/api/auth/signin", map[string]string{"email": email, "password": password}, &res); err != nil {
		return nil, err
	}
	c.Token = res.Token
	return &res, nil
}

// SignOut revokes the token on the engine.
func (c *Client) SignOut(ctx context.Context) error {
	return c.do(ctx, "POST", "/api/auth/signout", nil, nil)
}

// Me returns the signed-in user; EUnauthorized when the token is no good.
func (c *Client) Me(ctx context.Context) (*backend.User, error) {
	var u backend.User
	return &u, c.do(ctx, "GET", "/api/me", nil, &u)
}

// SyncPage is one page of the change feed, as the signed-in user may see
// it, with the feed's newest sequence (Head) and identity when it was
// read. Next is the log position the page reached (events there that were
// not for this user are left out).
type SyncPage struct {
	Events []backend.Event      `json:"events"`
	Next   int64                `json:"next"`
	More   bool                 `json:"more"`
	Head   int64                `json:"head"`
	Engine backend.FeedIdentity `json:"engine"`
	// Floor is the feed's pruned floor; Behind says since was below it, so
	// the client must take a snapshot instead (Snapshot).
	Floor  int64 `json:"floor"`
	Behind bool  `json:"behind"`
}

// Sync returns the events after since.
func (c *Client) Sync(ctx context.Context, since int64, limit int) (*SyncPage, error) {
	var p SyncPage
	path := fmt.Sprintf("/api/sync?since=%d", since)
	if limit > 0 {
		path += fmt.Sprintf("&limit=%d", limit)
	}
	return &p, c.do(ctx, "GET", path, nil, &p)
}

// SendMessage posts an outbound message (a private note when private);
// clientID makes retries safe.
func (c *Client) SendMessage(ctx context.Context, conversationID, text, clientID string, private bool) (*backend.Message, error) {
	var m backend.Message
	body := map[string]any{"text": text, "clientId": clientID, "private": private}
	return &m, c.do(ctx, "POST", "/api/conversations/"+url.PathEscape(conversationID)+"/messages", body, &m)
}

// Reply is a reply with files (uploaded with Upload) and, on email, who
// is copied (nil: everyone on the thread; empty: the sender only).
type Reply struct {
	Text        string               `json:"text"`
	ClientID    string               `json:"clientId"`
	Attachments []backend.Attachment `json:"attachments,omitempty"`
	Cc          []string             `json:"cc"`
}

// SendReplyWith posts a reply with files or a chosen Cc.
func (c *Client) SendReplyWith(ctx context.Context, conversationID string, r Reply) (*backend.Message, error) {
	var m backend.Message
	return &m, c.do(ctx, "POST", "/api/conversations/"+url.PathEscape(conversationID)+"/messages", r, &m)
}

// Upload keeps a file for a reply in the conversation and returns the
// attachment to send.
func (c *Client) Upload(ctx context.Context, conversationID, name, typ string, data []byte) (*backend.Attachment, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": name}))
	h.Set("Content-Type", typ)
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, err
	}
	part.Write(data)
	w.Close()
	var a backend.Attachment
	return &a, c.send(ctx, "POST", "/api/conversations/"+url.PathEscape(conversationID)+"/files", w.FormDataContentType(), &body, &a)
}

// ChangePassword replaces the signed-in user's password; their other
// sessions end, this one goes on.
func (c *Client) ChangePassword(ctx context.Context, current, next string) error {
	return c.do(ctx, "POST", "/api/me/password", map[string]string{"current": current, "new": next}, nil)
}

// SetStatus changes a conversation's status.
func (c *Client) SetStatus(ctx context.Context, conversationID, status string) (*backend.Conversation, error) {
	var conv backend.Conversation
	return &conv, c.do(ctx, "POST", "/api/conversations/"+url.PathEscape(conversationID)+"/status", map[string]string{"status": status}, &conv)
}

// File is a file the engine serves (a kept customer file), with the type
// the engine gave it; an out of type *File of Do receives it.
type File struct {
	Type string
	Data []byte
}

// Do sends a JSON request to path and decodes a JSON answer into out.
// maxFile bounds a file read with Do into a *[]byte.
const maxFile = 64 << 20

// Non-2xx answers become *backend.Error with the engine's code and
// sentence; a connection failure becomes EUnavailable.
// An out of type *[]byte receives the raw body (at most 64 MiB).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	return c.do(ctx, method, path, in, out)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	if in == nil {
		return c.send(ctx, method, path, "", nil, out)
	}
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.send(ctx, method, path, "application/json", bytes.NewReader(b), out)
}

// send sends a request with a body of the given type (none when body is
// nil) and reads the answer into out as Do describes.
func (c *Client) send(ctx context.Context, method, path, ctype string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return backend.Errorf(backend.EInvalid, "The server address %q is not a valid URL.", c.BaseURL)
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return &backend.Error{Code: backend.EUnavailable, Message: "The server at " + c.BaseURL + " cannot be reached."}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message, Reason string } `json:"error"`
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(raw, &e) != nil || e.Error.Code == "" {
			return backend.Errorf(backend.EUnavailable, "The server answered %s, which is not a Switchboard engine's answer.", resp.Status)
		}
		return &backend.Error{Code: e.Error.Code, Message: e.Error.Message, Reason: e.Error.Reason}
	}
	if out == nil {
		return nil
	}
	if read, ok := out.(func(io.Reader) error); ok { // a stream
		return read(resp.Body)
	}
	if raw, ok := out.(*[]byte); ok { // a file, such as a call recording
		*raw, err = io.ReadAll(io.LimitReader(resp.Body, maxFile))
		return err
	}
	if f, ok := out.(*File); ok {
		f.Type = resp.Header.Get("Content-Type")
		f.Data, err = io.ReadAll(io.LimitReader(resp.Body, maxFile))
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, path, err)
	}
	return nil
}

// Feed is a live WebSocket connection to the change feed.
type Feed struct {
	conn *websocket.Conn
	// OnTyping, when set, sees the typing signals the engine pushes
	// between batches of events (they are not in the change feed).
	OnTyping func(Typing)
	// OnFrame, when set, receives the other frames that are not change-feed
	// events (the supervisors' live view), with their type; Next goes on
	// to the next frame.
	OnFrame func(typ string, frame []byte)
}

// Typing says someone is typing in a conversation: a customer ("customer")
// or an agent ("agent").
type Typing struct {
	ConversationID string `json:"conversationId"`
	Who            string `json:"who"`
	Name           string `json:"name,omitempty"`
}

// OpenFeed connects to the live feed; events after since arrive in order.
func (c *Client) OpenFeed(ctx context.Context, since int64) (*Feed, error) {
	u := strings.Replace(strings.Replace(c.BaseURL, "https://", "wss://", 1), "http://", "ws://", 1)
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	conn, resp, err := d.DialContext(ctx, fmt.Sprintf("%s/api/ws?since=%d", u, since), http.Header{"Authorization": {"Bearer " + c.Token}})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return nil, backend.Errorf(backend.EUnauthorized, "Your session is not valid; please sign in again.")
		}
		return nil, &backend.Error{Code: backend.EUnavailable, Message: "The live feed at " + c.BaseURL + " cannot be reached."}
	}
	conn.SetPingHandler(func(data string) error {
		conn.SetReadDeadline(time.Now().Add(90 * time.Second))
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(10*time.Second))
	})
	return &Feed{conn: conn}, nil
}

// closeSessionEnded is the close code the engine ends a feed with when
// its session is over (signed out, expired, password changed, disabled).
const closeSessionEnded = 4401

// Next blocks until the next batch of events and the log position it
// brings the client to (or an error: the caller then reconnects from its
// cursor). A feed closed because the session ended returns EUnauthorized.
// Typing signals on the way go to OnTyping, other frames to OnFrame.
func (f *Feed) Next() ([]backend.Event, int64, error) {
	for {
		f.conn.SetReadDeadline(time.Now().Add(90 * time.Second))
		var frame struct {
			Type   string          `json:"type"`
			Events []backend.Event `json:"events"`
			Next   int64           `json:"next"`
			Typing *Typing         `json:"typing"`
		}
		_, raw, err := f.conn.ReadMessage()
		if err == nil {
			err = json.Unmarshal(raw, &frame)
		}
		if err != nil {
			if websocket.IsCloseError(err, closeSessionEnded) {
				return nil, 0, backend.Errorf(backend.EUnauthorized, "Your session has ended; please sign in again.")
			}
			return nil, 0, err
		}
		switch {
		case frame.Type == "typing":
			if f.OnTyping != nil && frame.Typing != nil {
				f.OnTyping(*frame.Typing)
			}
		case frame.Type != "events" && f.OnFrame != nil:
			f.OnFrame(frame.Type, raw)
		default:
			return frame.Events, frame.Next, nil
		}
	}
}

// Typing tells the engine that the signed-in agent is typing in a
// conversation, so a web chat visitor sees it.
func (c *Client) Typing(ctx context.Context, conversationID string) error {
	return c.do(ctx, "POST", "/api/conversations/"+url.PathEscape(conversationID)+"/typing", nil, nil)
}

// Ack tells the engine that the cache has applied the feed up to seq, so
// it may prune the events up to it ({"type":"feed.ack","seq":N}). Only
// the goroutine that calls Next may call it.
func (f *Feed) Ack(seq int64) error {
	f.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return f.conn.WriteJSON(struct {
		Type string `json:"type"`
		Seq  int64  `json:"seq"`
	}{"feed.ack", seq})
}

// Close closes the connection; a blocked Next returns an error.
func (f *Feed) Close() error { return f.conn.Close() }
