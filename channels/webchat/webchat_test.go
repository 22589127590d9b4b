package webchat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend"
	"switchboard/channels/internal/hubtest"
	"switchboard/channels/webchat"
)

const origin = "https://shop.example"

type env struct {
	*hubtest.Env
	widget *webchat.Server
	srv    *httptest.Server
}

func setup(tb testing.TB, opts webchat.Options) *env {
	tb.Helper()
	e := &env{Env: hubtest.New(tb, webchat.ID, "site", map[string]any{
		"allowedOrigins": []string{origin}, "identitySecret": "hmac-token", "title": "Shop",
	}, "")}
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	w, err := webchat.NewServer(context.Background(), e.DB, opts)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.Start(ctx)
	e.widget = w
	e.srv = httptest.NewServer(w)
	tb.Cleanup(func() { e.srv.Close(); w.Close(); cancel() })
	return e
}

func (e *env) session(tb testing.TB, req webchat.SessionRequest) (*webchat.SessionResponse, int) {
	tb.Helper()
	b, _ := json.Marshal(req)
	r, _ := http.NewRequest("POST", e.srv.URL+"/widget/site/session", bytes.NewReader(b))
	r.Header.Set("Origin", origin)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var s webchat.SessionResponse
	json.NewDecoder(resp.Body).Decode(&s)
	if resp.StatusCode == 200 && resp.Header.Get("Access-Control-Allow-Origin") != origin {
		tb.Fatalf("CORS header %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	return &s, resp.StatusCode
}

func (e *env) dial(tb testing.TB, token string) *websocket.Conn {
	tb.Helper()
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/widget/site/ws?token=" + token
	c, _, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {origin}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func send(tb testing.TB, c *websocket.Conn, v any) {
	tb.Helper()
	if err := c.WriteJSON(v); err != nil {
		tb.Fatal(err)
	}
}

// next reads frames until one of the given type arrives.
func next(tb testing.TB, c *websocket.Conn, typ string) *webchat.ServerFrame {
	tb.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var f webchat.ServerFrame
		if err := c.ReadJSON(&f); err != nil {
			tb.Fatalf("waiting for %s: %v", typ, err)
		}
		if f.Type == typ {
			return &f
		}
	}
}

func TestChat_MessageReplyAndHistory(t *testing.T) {
	e := setup(t, webchat.Options{})
	s, st := e.session(t, webchat.SessionRequest{Name: "Wendy", Email: "wendy@example.net"})
	if st != 200 || s.Token == "" || s.Title != "Shop" || len(s.Messages) != 0 {
		t.Fatalf("session %d %+v", st, s)
	}
	ws := e.dial(t, s.Token)
	send(t, ws, map[string]any{"type": "message", "nonce": "n1", "text": "hello"})
	ack := next(t, ws, "ack")
	if ack.Nonce != "n1" || ack.Message.Text != "hello" || ack.Message.Nonce != "n1" {
		t.Fatalf("ack %+v", ack)
	}
	// The same nonce again (a resend after a reconnect) is stored once.
	send(t, ws, map[string]any{"type": "message", "nonce": "n1", "text": "hello"})
	if again := next(t, ws, "ack"); again.Message.ID != ack.Message.ID {
		t.Fatalf("resend stored twice: %s vs %s", again.Message.ID, ack.Message.ID)
	}
	msgs := e.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	if c := e.Contact(msgs[0].ContactID); c.Name != "Wendy" || c.Email != "wendy@example.net" {
		t.Fatalf("contact %+v", c)
	}
	// A private note never reaches the visitor; the reply does once sent.
	e.DB.StoreOutbound(context.Background(), &backend.OutboundMessage{ConversationID: msgs[0].ConversationID, Text: "note", Private: true})
	out := e.Reply(msgs[0], "Hi Wendy")
	if n := e.RunOutbox(); n != 1 {
		t.Fatalf("outbox handled %d", n)
	}
	got := next(t, ws, "message")
	for got.Message.Direction == "in" {
		got = next(t, ws, "message")
	}
	if got.Message.ID != out.ID || got.Message.Text != "Hi Wendy" || got.Message.AuthorName != "Agent" {
		t.Fatalf("pushed %+v", got.Message)
	}
	if m := e.Message(out.ID); m.Status != backend.DeliverySent {
		t.Fatalf("status %s", m.Status)
	}
	// A returning visitor gets the history with the token.
	s2, _ := e.session(t, webchat.SessionRequest{Token: s.Token})
	if len(s2.Messages) != 2 || s2.Messages[0].Text != "hello" || s2.Messages[1].Text != "Hi Wendy" || s2.Name != "Wendy" {
		t.Fatalf("history %+v", s2.Messages)
	}
}

func TestChat_VisitorsAreIsolated(t *testing.T) {
	e := setup(t, webchat.Options{})
	a, _ := e.session(t, webchat.SessionRequest{})
	b, _ := e.session(t, webchat.SessionRequest{})
	wa, wb := e.dial(t, a.Token), e.dial(t, b.Token)
	send(t, wa, map[string]any{"type": "message", "nonce": "a1", "text": "secret of A"})
	next(t, wa, "ack")
	send(t, wb, map[string]any{"type": "message", "nonce": "b1", "text": "from B"})
	next(t, wb, "ack")
	for _, m := range e.Messages() {
		e.Reply(m, "reply to "+m.Text)
	}
	e.RunOutbox()
	for { // B's own echo maybe, then the reply to B
		f := next(t, wb, "message")
		if strings.Contains(f.Message.Text, "A") {
			t.Fatalf("B saw %q", f.Message.Text)
		}
		if f.Message.Text == "reply to from B" {
			break
		}
	}
	hb, _ := e.session(t, webchat.SessionRequest{Token: b.Token})
	for _, m := range hb.Messages {
		if strings.Contains(m.Text, "A") {
			t.Fatalf("B's history has %q", m.Text)
		}
	}
	// A forged token (A's payload, wrong signature) is refused.
	p, _, _ := strings.Cut(a.Token, ".")
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/widget/site/ws?token=" + p + ".AAAA"
	if _, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {origin}}); err == nil || resp.StatusCode != 401 {
		t.Fatalf("forged token: %v", err)
	}
	// A socket from another origin is refused.
	u = "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/widget/site/ws?token=" + a.Token
	if _, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {"https://evil.example"}}); err == nil || resp.StatusCode != 403 {
		t.Fatalf("foreign origin: %v", err)
	}
}

func TestSession_Identity(t *testing.T) {
	// CHANNELS.md §11 vector (Chatwoot's scheme).
	if h := webchat.IdentityHash("hmac-token", "user-42"); h != "ce36f102799e800738d3f136736c2e0bc17bffb88d4d190b932ee6d4732c01ff" {
		t.Fatalf("identity hash %s", h)
	}
	e := setup(t, webchat.Options{})
	if _, st := e.session(t, webchat.SessionRequest{Identifier: "user-42", IdentifierHash: "00"}); st != 403 {
		t.Fatalf("bad hash: %d", st)
	}
	s, st := e.session(t, webchat.SessionRequest{Identifier: "user-42", IdentifierHash: webchat.IdentityHash("hmac-token", "user-42")})
	if st != 200 || !s.Verified {
		t.Fatalf("verified: %d %+v", st, s)
	}
	ws := e.dial(t, s.Token)
	send(t, ws, map[string]any{"type": "message", "nonce": "x", "text": "hi"})
	next(t, ws, "ack")
	// Another browser with the same signed identity shares the thread.
	s2, _ := e.session(t, webchat.SessionRequest{Identifier: "user-42", IdentifierHash: webchat.IdentityHash("hmac-token", "user-42")})
	if len(s2.Messages) != 1 {
		t.Fatalf("history on a second device: %d", len(s2.Messages))
	}
	if c := e.Contact(e.Messages()[0].ContactID); c.Identities[0].ExternalID != "u:user-42" {
		t.Fatalf("identity %+v", c.Identities)
	}
}

func TestUpload_OwnFilesOnly(t *testing.T) {
	e := setup(t, webchat.Options{})
	a, _ := e.session(t, webchat.SessionRequest{})
	b, _ := e.session(t, webchat.SessionRequest{})
	st, up, resp := e.upload(t, a.Token, "note.txt", []byte("hello file"))
	if st != 201 || up.ID == "" || up.Size != 10 {
		t.Fatalf("upload %d %s", st, resp)
	}
	wb := e.dial(t, b.Token)
	send(t, wb, map[string]any{"type": "message", "nonce": "b", "attachments": []string{up.ID}})
	if f := next(t, wb, "error"); f.Nonce != "b" {
		t.Fatalf("B attached A's file: %+v", f)
	}
	wa := e.dial(t, a.Token)
	send(t, wa, map[string]any{"type": "message", "nonce": "a", "attachments": []string{up.ID}})
	ack := next(t, wa, "ack")
	if len(ack.Message.Attachments) != 1 || ack.Message.Attachments[0].URL != up.URL {
		t.Fatalf("ack %+v", ack.Message)
	}
	st, got := hubtest.Do(t, mustReq("GET", e.srv.URL+up.URL))
	if st != 200 || got != "hello file" {
		t.Fatalf("file %d %q", st, got)
	}
}

// upload posts a file as a visitor's widget does.
func (e *env) upload(tb testing.TB, token, name string, data []byte) (int, webchat.UploadResponse, string) {
	tb.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	r, _ := http.NewRequest("POST", e.srv.URL+"/widget/site/upload", &body)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Origin", origin)
	st, resp := hubtest.Do(tb, r)
	var up webchat.UploadResponse
	json.Unmarshal([]byte(resp), &up)
	return st, up, resp
}

// TestUpload_QuotasPerVisitorAndInstance: one visitor cannot upload more
// than their share in the window, all visitors together no more than the
// instance's; the window moving on frees both.
func TestUpload_QuotasPerVisitorAndInstance(t *testing.T) {
	clock := backend.NewFakeClock(hubtest.Start)
	e := setup(t, webchat.Options{Clock: clock, VisitorUploadBytes: 1000, InstanceUploadBytes: 1500, UploadQuotaWindow: time.Hour})
	e.DB.Now = clock.Now // uploads are stamped on the same clock
	a, _ := e.session(t, webchat.SessionRequest{})
	b, _ := e.session(t, webchat.SessionRequest{})
	file := bytes.Repeat([]byte("x"), 600)
	for i, tc := range []struct {
		token string
		size  int
		want  int
		says  string
	}{
		{a.Token, 600, 201, ""},
		{a.Token, 600, 413, "try again later"}, // a: 1200 > 1000
		{b.Token, 600, 201, ""},                // instance: 1200
		{b.Token, 400, 413, "no more files"},   // instance: 1600 > 1500
		{a.Token, 300, 201, ""},                // a: 900, instance: 1500
	} {
		st, _, resp := e.upload(t, tc.token, "f.txt", file[:tc.size])
		if st != tc.want || !strings.Contains(resp, tc.says) {
			t.Fatalf("upload %d: %d %s, want %d %q", i+1, st, resp, tc.want, tc.says)
		}
	}
	clock.Advance(time.Hour + time.Second)
	if st, _, resp := e.upload(t, b.Token, "f.txt", file); st != 201 {
		t.Fatalf("after the window: %d %s", st, resp)
	}
}

// TestUpload_UnattachedFilesAreDeleted: a file no message ever carried is
// deleted once it is older than OrphanUploadAge, by the sweeper on the
// server's clock; a file a message carries stays.
func TestUpload_UnattachedFilesAreDeleted(t *testing.T) {
	clock := backend.NewFakeClock(hubtest.Start)
	e := setup(t, webchat.Options{Clock: clock, OrphanUploadAge: time.Hour, UploadSweep: 10 * time.Minute})
	e.DB.Now = clock.Now // uploads are stamped on the same clock
	s, _ := e.session(t, webchat.SessionRequest{})
	_, kept, _ := e.upload(t, s.Token, "kept.txt", []byte("in a message"))
	_, orphan, _ := e.upload(t, s.Token, "orphan.txt", []byte("never sent"))
	ws := e.dial(t, s.Token)
	send(t, ws, map[string]any{"type": "message", "nonce": "m1", "text": "see file", "attachments": []string{kept.ID}})
	next(t, ws, "ack")

	clock.Advance(50 * time.Minute) // swept at 10, 20… 50 min: both younger than an hour
	for _, up := range []webchat.UploadResponse{kept, orphan} {
		if st, _ := hubtest.Do(t, mustReq("GET", e.srv.URL+up.URL)); st != 200 {
			t.Fatalf("%s deleted too early: %d", up.Name, st)
		}
	}
	clock.Advance(20 * time.Minute) // the sweep at 70 min
	if st, _ := hubtest.Do(t, mustReq("GET", e.srv.URL+orphan.URL)); st != 404 {
		t.Fatalf("the unattached file is still served: %d", st)
	}
	if st, got := hubtest.Do(t, mustReq("GET", e.srv.URL+kept.URL)); st != 200 || got != "in a message" {
		t.Fatalf("the attached file: %d %q", st, got)
	}
	// Too late to attach the deleted one.
	send(t, ws, map[string]any{"type": "message", "nonce": "m2", "attachments": []string{orphan.ID}})
	if f := next(t, ws, "error"); f.Nonce != "m2" || !strings.Contains(f.Error, "not found") {
		t.Fatalf("attaching a deleted file: %+v", f)
	}
}

func mustReq(method, url string) *http.Request {
	r, _ := http.NewRequest(method, url, nil)
	return r
}

func TestSocket_RateLimitCloses(t *testing.T) {
	e := setup(t, webchat.Options{Rate: 1, Burst: 3})
	s, _ := e.session(t, webchat.SessionRequest{})
	ws := e.dial(t, s.Token)
	// A browser that sends a burst keeps sending while the engine says "slow down": the close
	// frame must still reach it (a socket closed with unread frames is reset, and the browser
	// then sees 1006, not 1008, and says "retrying" instead of "slow down").
	// The engine finishes the closing handshake instead, so no write of the burst meets a reset.
	writeErr := make(chan error, 1)
	go func() {
		for i := 0; i < 2000; i++ {
			if err := ws.WriteJSON(map[string]any{"type": "message", "nonce": fmt.Sprint(i), "text": strings.Repeat("burst ", 50)}); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	}()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
			t.Fatalf("want 1008, got %v", err)
		}
		break
	}
	// Once the browser has answered the close frame it stops writing (gorilla: ErrCloseSent).
	if err := <-writeErr; err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		t.Fatalf("a write of the burst met %v: the engine closed before the closing handshake", err)
	}
}

func TestVisitorName(t *testing.T) {
	e := setup(t, webchat.Options{})
	s, _ := e.session(t, webchat.SessionRequest{})
	ws := e.dial(t, s.Token)
	send(t, ws, map[string]any{"type": "message", "nonce": "n", "text": "hi"})
	m := e.Message(next(t, ws, "ack").Message.ID)
	ct, err := e.DB.FindContactByID(context.Background(), m.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if ct.Name != webchat.VisitorName(m.ExternalID[:strings.Index(m.ExternalID, ":")]) || !strings.HasPrefix(ct.Name, "Website visitor ") || len(ct.Name) != len("Website visitor 0000") {
		t.Fatalf("an anonymous visitor is named %q", ct.Name)
	}
	if webchat.VisitorName("v_a") == webchat.VisitorName("v_b") || webchat.VisitorName("v_a") != webchat.VisitorName("v_a") {
		t.Fatal("visitor names are not stable and distinct")
	}
}

func TestSocket_AgentTyping(t *testing.T) {
	e := setup(t, webchat.Options{})
	s, _ := e.session(t, webchat.SessionRequest{})
	ws := e.dial(t, s.Token)
	send(t, ws, map[string]any{"type": "message", "nonce": "n", "text": "hi"})
	ack := next(t, ws, "ack")
	m := e.Message(ack.Message.ID)
	if err := e.widget.AgentTyping(context.Background(), m.ConversationID); err != nil {
		t.Fatal(err)
	}
	next(t, ws, "typing")
}

func TestScript_ServedAndSmall(t *testing.T) {
	e := setup(t, webchat.Options{})
	st, js := hubtest.Do(t, mustReq("GET", e.srv.URL+"/widget/site/widget.js"))
	if st != 200 || !strings.Contains(js, "sb-bubble") || strings.Contains(js, "/*CSS*/") || strings.Contains(js, "/*LOOK*/") {
		t.Fatalf("script %d", st)
	}
	// The look is in the script, so the launcher has the brand colour before any request.
	look := `var LOOK = {"color":"#2b6cb0","title":"Shop","allowedOrigins":["` + origin + `"]};`
	if !strings.Contains(js, look) {
		t.Fatalf("the script does not carry the instance's look %s", look)
	}
	req := mustReq("GET", e.srv.URL+"/widget/site/widget.js")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if st, _ := hubtest.Do(t, req); st != http.StatusNotModified || resp.Header.Get("ETag") == "" {
		t.Fatalf("revalidation: %d with ETag %q", st, resp.Header.Get("ETag"))
	}
	if st, _ := hubtest.Do(t, mustReq("GET", e.srv.URL+"/widget/nope/widget.js")); st != 404 {
		t.Fatalf("unknown instance: %d", st)
	}
	raw, gz := webchat.Bundle()
	t.Logf("widget.js: %d bytes, %d gzip", len(raw), gz)
	if gz > 10<<10 {
		t.Fatalf("widget is %d bytes gzipped", gz)
	}
}

func FuzzDecodeClientFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"message","nonce":"n1","text":"hi"}`,
		`{"type":"typing"}`,
		`{"type":"message","nonce":"x","attachments":["up_1"]}`,
		`{"type":"message","nonce":"../../","text":"x"}`,
		`{"type":"message","nonce":"n","text":"\u0000"}`,
		`{"type":"nope"}`, `{}`, `[]`, `{"type":"message"} {}`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := webchat.DecodeClientFrame(b)
		if err != nil {
			if backend.ErrorCode(err) != backend.EInvalid {
				t.Fatalf("code %s", backend.ErrorCode(err))
			}
			return
		}
		if fr.Type == "message" && (fr.Nonce == "" || len(fr.Nonce) > 64 || fr.Text == "" && len(fr.Attachments) == 0) {
			t.Fatalf("accepted %+v", fr)
		}
	})
}

// BenchmarkSocket measures visitor messages per second over one loopback
// socket: frame → decode → StoreInbound in SQLite → ack.
func BenchmarkSocket(b *testing.B) {
	e := setup(b, webchat.Options{Rate: 1e9, Burst: 1 << 30})
	s, _ := e.session(b, webchat.SessionRequest{})
	ws := e.dial(b, s.Token)
	b.ResetTimer()
	start := time.Now()
	go func() {
		for i := 0; i < b.N; i++ {
			ws.WriteJSON(map[string]any{"type": "message", "nonce": "n" + strconv.Itoa(i), "text": "hello"})
		}
	}()
	for i := 0; i < b.N; i++ {
		next(b, ws, "ack")
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
