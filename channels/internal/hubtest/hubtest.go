// Package hubtest boots a channels.Hub on a real SQLite store for connector
// tests, with an injected clock and helpers for the usual assertions.
package hubtest

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/backend/secret"
	"switchboard/backend/sqlite"
	"switchboard/channels"
)

// Clock is a manual clock: Now stays put until Advance.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now implements channels.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After implements channels.Clock; it fires when Advance reaches the time.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	return ch
}

// Waiting reports whether a timer waits to fire at t.
func (c *Clock) Waiting(t time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.waiters {
		if w.at.Equal(t) {
			return true
		}
	}
	return false
}

// Advance moves the clock forward and fires due timers.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			keep = append(keep, w)
		}
	}
	c.waiters = keep
}

// Env is a Hub on a temp-file store, served over HTTP.
type Env struct {
	T      testing.TB
	DB     *sqlite.DB
	Hub    *channels.Hub
	Server *httptest.Server
	Clock  *Clock
	// Inbound collects what OnInbound received.
	Inbound chan *backend.Message
	// refuse, when set, makes OnInbound refuse a message with its error.
	refuseMu sync.Mutex
	refuse   func(m *backend.Message) error

	baseURLs map[string]string
	opts     channels.Options
	// serving is the hub the HTTP server hands requests to.
	serving atomic.Pointer[channels.Hub]
}

// Start is the fixed start time of every Env clock.
var Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// New boots an Env with one configured instance. baseURL points the
// connector at its fake.
func New(tb testing.TB, connector, instance string, config any, baseURL string) *Env {
	tb.Helper()
	e := &Env{T: tb, Clock: NewClock(Start), Inbound: make(chan *backend.Message, 100), baseURLs: map[string]string{connector: baseURL}}
	e.DB = sqlite.NewDB(filepath.Join(tb.TempDir(), "engine.db"))
	e.DB.PasswordCost = 4
	e.DB.Now = e.Clock.Now
	e.DB.Secrets = secret.MustNew()
	if err := e.DB.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.DB.Close() })
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hub := e.serving.Load()
		if strings.HasPrefix(r.URL.Path, channels.LinkPath) {
			hub.ServeLink(w, r) // public file links platforms fetch
			return
		}
		hub.ServeHTTP(w, r)
	}))
	tb.Cleanup(e.Server.Close)
	raw, err := json.Marshal(config)
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.DB.PutChannelInstance(context.Background(), &backend.ChannelInstance{
		Connector: connector, Instance: instance, Config: raw, Enabled: true,
	}); err != nil {
		tb.Fatal(err)
	}
	e.opts = channels.Options{
		PublicURL: e.Server.URL, BaseURLs: e.baseURLs,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: e.Clock, ManualOutbox: true, ManualMedia: true,
		OnInbound: e.onInbound,
	}
	e.newHub()
	return e
}

// newHub builds a hub on the Env's store and serves it.
func (e *Env) newHub() {
	e.T.Helper()
	hub, err := channels.NewHub(context.Background(), e.DB, e.opts)
	if err != nil {
		e.T.Fatal(err)
	}
	e.Hub = hub
	e.serving.Store(hub)
}

// Restart closes the hub, as an engine shutting down does, and builds a
// new one on the same store (not started: call Hub.Start), as the engine
// does when it starts again.
func (e *Env) Restart() {
	e.T.Helper()
	e.Hub.Close()
	e.newHub()
}

// BaseURL is the platform API base URL the connector was pointed at.
func (e *Env) BaseURL(connector string) string { return e.baseURLs[connector] }

// Refuse makes OnInbound answer each message with fn's error (nil: take
// it), as a busy or failing consumer would.
func (e *Env) Refuse(fn func(m *backend.Message) error) {
	e.refuseMu.Lock()
	defer e.refuseMu.Unlock()
	e.refuse = fn
}

func (e *Env) onInbound(ctx context.Context, m *backend.Message) error {
	e.refuseMu.Lock()
	fn := e.refuse
	e.refuseMu.Unlock()
	if fn != nil {
		if err := fn(m); err != nil {
			return err
		}
	}
	e.Inbound <- m
	return nil
}

// Add configures one more instance and reloads the hub.
func (e *Env) Add(connector, instance string, config any, baseURL string) {
	e.T.Helper()
	raw, err := json.Marshal(config)
	if err != nil {
		e.T.Fatal(err)
	}
	e.baseURLs[connector] = baseURL
	if err := e.Hub.PutInstance(context.Background(), &backend.ChannelInstance{
		Connector: connector, Instance: instance, Config: raw, Enabled: true,
	}); err != nil {
		e.T.Fatal(err)
	}
}

// HookURL returns the webhook URL of an instance.
func (e *Env) HookURL(connector, instance string) string {
	return e.Server.URL + "/hooks/" + connector + "/" + instance
}

// Messages returns every message in the store, oldest first.
func (e *Env) Messages() []*backend.Message {
	e.T.Helper()
	ctx := context.Background()
	convs, err := e.DB.FindConversations(ctx, backend.ConversationFilter{})
	if err != nil {
		e.T.Fatal(err)
	}
	var out []*backend.Message
	for _, c := range convs {
		ms, err := e.DB.FindMessages(ctx, c.ID)
		if err != nil {
			e.T.Fatal(err)
		}
		out = append(out, ms...)
	}
	return out
}

// Reply stores an agent's reply in the conversation of m.
func (e *Env) Reply(m *backend.Message, text string) *backend.Message {
	e.T.Helper()
	out, _, err := e.DB.StoreOutbound(context.Background(), &backend.OutboundMessage{ConversationID: m.ConversationID, Text: text, AuthorName: "Agent"})
	if err != nil {
		e.T.Fatal(err)
	}
	return out
}

// ReplyWith stores an agent's reply with attachments (files uploaded
// with Upload) in the conversation of m.
func (e *Env) ReplyWith(m *backend.Message, text string, atts ...backend.Attachment) *backend.Message {
	e.T.Helper()
	out, _, err := e.DB.StoreOutbound(context.Background(), &backend.OutboundMessage{ConversationID: m.ConversationID, Text: text,
		AuthorID: "us_agent", AuthorName: "Agent", Attachments: atts})
	if err != nil {
		e.T.Fatal(err)
	}
	return out
}

// Upload keeps a file an agent attaches to a reply in the conversation of
// m, and returns the attachment to send.
func (e *Env) Upload(m *backend.Message, name, typ string, data []byte) backend.Attachment {
	e.T.Helper()
	f := &backend.MediaFile{ConversationID: m.ConversationID, Name: name, Type: typ, UploadedBy: "us_agent"}
	if err := e.DB.PutMedia(context.Background(), f, data); err != nil {
		e.T.Fatal(err)
	}
	return backend.Attachment{URL: backend.MediaPath + f.ID, Name: f.Name, Type: f.Type, Size: f.Size}
}

// JPEG returns a small real JPEG picture; seed varies its pixels (and so
// its bytes).
func JPEG(seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for x := 0; x < 32; x++ {
		for y := 0; y < 24; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 8), uint8(y * 10), uint8(seed * 40), 255})
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, nil)
	return buf.Bytes()
}

// RunOutbox runs one outbox pass and returns how many jobs it handled.
func (e *Env) RunOutbox() int {
	e.T.Helper()
	n, err := e.Hub.RunOutbox(context.Background())
	if err != nil {
		e.T.Fatal(err)
	}
	return n
}

// RunMedia makes one attempt at every file due to be fetched and returns
// how many it tried.
func (e *Env) RunMedia() int {
	e.T.Helper()
	n, err := e.Hub.RunMediaFetches(context.Background())
	if err != nil {
		e.T.Fatal(err)
	}
	return n
}

// Media returns a kept file and its bytes (nil until it is ready).
func (e *Env) Media(url string) (*backend.MediaFile, []byte) {
	e.T.Helper()
	id, ok := backend.MediaIDFromPath(url)
	if !ok {
		e.T.Fatalf("%q is not a kept file's address", url)
	}
	f, err := e.DB.MediaFile(context.Background(), id)
	if err != nil {
		e.T.Fatal(err)
	}
	data, err := e.DB.MediaContent(context.Background(), id)
	if err != nil && backend.ErrorCode(err) != backend.EUnavailable {
		e.T.Fatal(err)
	}
	return f, data
}

// Message reloads a message.
func (e *Env) Message(id string) *backend.Message {
	e.T.Helper()
	m, err := e.DB.FindMessageByID(context.Background(), id)
	if err != nil {
		e.T.Fatal(err)
	}
	return m
}

// Contact loads a contact.
func (e *Env) Contact(id string) *backend.Contact {
	e.T.Helper()
	c, err := e.DB.FindContactByID(context.Background(), id)
	if err != nil {
		e.T.Fatal(err)
	}
	return c
}

// MustBeAPIError fails the test unless body is the API's error shape
// {"error":{"code","message"}} with the given code and a sentence.
func MustBeAPIError(tb testing.TB, body, code string) {
	tb.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != code || !strings.HasSuffix(e.Error.Message, ".") {
		tb.Errorf("error body %q is not {\"error\":{\"code\":%q,\"message\":<a sentence>}}", body, code)
	}
}

// Do sends a request and returns the status and body.
func Do(tb testing.TB, req *http.Request) (int, string) {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
