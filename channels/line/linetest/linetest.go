// Package linetest is a fake LINE Messaging API for tests: reply (single-use
// reply tokens that expire) and push (X-Line-Retry-Key answered 409 on a
// repeat), bearer auth, 429 injection, webhooks signed with
// x-line-signature like LINE does, the content API for files users send
// (GET /v2/bot/message/{id}/content, 202 while a video is being prepared)
// and image messages, whose originalContentUrl the fake fetches as LINE
// does (it takes http: too, for tests). Standard library only.
package linetest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Request is one API call the fake received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Server is a fake LINE channel.
type Server struct {
	*httptest.Server
	ChannelSecret string
	AccessToken   string
	Destination   string
	// Now is the fake's clock; reply tokens expire TokenTTL after issue.
	Now      func() time.Time
	TokenTTL time.Duration

	mu          sync.Mutex
	requests    []Request
	tokens      map[string]time.Time
	retried     map[string]string
	fail        int
	retry       string
	content     map[string][]byte // message id → file
	pending     map[string]int    // message id → 202 answers still to give
	contentGets int
	fetched     []Fetched
}

// Fetched is an image the fake fetched from an image message's
// originalContentUrl.
type Fetched struct {
	URL    string
	Status int
	Type   string
	Data   []byte
}

// NewServer starts a fake.
func NewServer(channelSecret, accessToken string) *Server {
	s := &Server{ChannelSecret: channelSecret, AccessToken: accessToken, Destination: "U0123456789abcdef0123456789abcdef",
		Now: time.Now, TokenTTL: time.Minute, tokens: map[string]time.Time{}, retried: map[string]string{},
		content: map[string][]byte{}, pending: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Fail429 makes the next n calls answer 429 with the given Retry-After.
func (s *Server) Fail429(n int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail, s.retry = n, retryAfter
}

// Requests returns the calls received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// The fake bot's profile, as GET /v2/bot/info reports it.
const (
	BotBasicID = "@123abcde"
	BotName    = "Switchboard Test"
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	w.Header().Set("Content-Type", "application/json")
	reqID := newHex(16)
	w.Header().Set("X-Line-Request-Id", reqID)
	if r.Header.Get("Authorization") != "Bearer "+s.AccessToken {
		writeErr(w, http.StatusUnauthorized, "Authentication failed due to the following reason: invalid token.")
		return
	}
	if id, ok := contentID(r.URL.Path); ok && r.Method == http.MethodGet {
		s.contentGets++
		data, found := s.content[id]
		switch {
		case !found:
			writeErr(w, http.StatusNotFound, "Not found")
		case s.pending[id] > 0:
			s.pending[id]--
			w.WriteHeader(http.StatusAccepted) // still being prepared
		default:
			w.Header().Set("Content-Type", http.DetectContentType(data))
			w.Write(data)
		}
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/v2/bot/info" {
		// The bot's profile, as the Messaging API documents it.
		json.NewEncoder(w).Encode(map[string]any{"userId": "U" + newHex(16), "basicId": BotBasicID,
			"displayName": BotName, "chatMode": "chat", "markAsReadMode": "manual"})
		return
	}
	if s.fail > 0 {
		s.fail--
		if s.retry != "" {
			w.Header().Set("Retry-After", s.retry)
		}
		writeErr(w, http.StatusTooManyRequests, "Too Many Requests")
		return
	}
	var req struct {
		ReplyToken string            `json:"replyToken"`
		To         string            `json:"to"`
		Messages   []json.RawMessage `json:"messages"`
	}
	if r.Method != http.MethodPost || json.Unmarshal(body, &req) != nil || len(req.Messages) == 0 || len(req.Messages) > 5 {
		writeErr(w, http.StatusBadRequest, "The request body has 1 error(s)")
		return
	}
	switch r.URL.Path {
	case "/v2/bot/message/reply":
		issued, ok := s.tokens[req.ReplyToken]
		if !ok || s.Now().Sub(issued) > s.TokenTTL {
			writeErr(w, http.StatusBadRequest, "Invalid reply token")
			return
		}
		delete(s.tokens, req.ReplyToken)
	case "/v2/bot/message/push":
		if req.To == "" {
			writeErr(w, http.StatusBadRequest, "The property, 'to', in the request body is invalid")
			return
		}
		if key := r.Header.Get("X-Line-Retry-Key"); key != "" {
			if first, dup := s.retried[key]; dup {
				w.Header().Set("X-Line-Accepted-Request-Id", first)
				writeErr(w, http.StatusConflict, "The retry key is already accepted")
				return
			}
			s.retried[key] = reqID
		}
	default:
		writeErr(w, http.StatusNotFound, "Not found")
		return
	}
	sent := []map[string]string{}
	for _, raw := range req.Messages {
		var m struct {
			Type     string `json:"type"`
			Original string `json:"originalContentUrl"`
		}
		if json.Unmarshal(raw, &m) == nil && m.Type == "image" {
			s.fetchImage(m.Original)
		}
		sent = append(sent, map[string]string{"id": newDigits(18), "quoteToken": newHex(8)})
	}
	json.NewEncoder(w).Encode(map[string]any{"sentMessages": sent})
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"message": msg})
}

func newHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func newDigits(n int) string {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	v, _ := rand.Int(rand.Reader, max)
	return fmt.Sprintf("%0*d", n, v)
}

// Sign returns the x-line-signature of body.
func Sign(channelSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(channelSecret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// WebhookRequest builds LINE's signed POST of body to hookURL.
func (s *Server) WebhookRequest(hookURL string, body []byte) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "LineBotWebhook/2.0")
	req.Header.Set("X-Line-Signature", Sign(s.ChannelSecret, body))
	return req
}

// TextEvent returns the webhook body of a text from userID, with the
// message id and a fresh reply token.
func (s *Server) TextEvent(userID, text string) (body []byte, messageID, replyToken string) {
	messageID, replyToken = newDigits(18), newHex(16)
	s.mu.Lock()
	s.tokens[replyToken] = s.Now()
	s.mu.Unlock()
	body, _ = json.Marshal(map[string]any{"destination": s.Destination, "events": []any{map[string]any{
		"type": "message", "mode": "active", "timestamp": s.Now().UnixMilli(),
		"source":         map[string]string{"type": "user", "userId": userID},
		"webhookEventId": "01J" + newHex(12), "deliveryContext": map[string]bool{"isRedelivery": false},
		"replyToken": replyToken, "message": map[string]string{"id": messageID, "type": "text", "quoteToken": newHex(8), "text": text},
	}}})
	return body, messageID, replyToken
}

// contentID reads the message id of a content API path.
func contentID(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/v2/bot/message/")
	id, ok2 := strings.CutSuffix(rest, "/content")
	return id, ok && ok2 && id != "" && !strings.Contains(id, "/")
}

// fetchImage gets an image message's file as LINE's servers do; s.mu is
// held.
func (s *Server) fetchImage(u string) {
	f := Fetched{URL: u}
	if resp, err := http.Get(u); err == nil {
		f.Status, f.Type = resp.StatusCode, resp.Header.Get("Content-Type")
		f.Data, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	s.fetched = append(s.fetched, f)
}

// Fetched returns the images the fake fetched from image messages.
func (s *Server) Fetched() []Fetched {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Fetched(nil), s.fetched...)
}

// ContentGets counts requests to the content API.
func (s *Server) ContentGets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.contentGets
}

// FileEvent returns the webhook body of an image ("image"), video, audio or
// file message from userID whose content the content API serves (after
// `preparing` answers of 202), and its message id.
func (s *Server) FileEvent(userID, typ, fileName string, data []byte, preparing int) (body []byte, messageID string) {
	messageID = newDigits(18)
	s.mu.Lock()
	s.content[messageID], s.pending[messageID] = data, preparing
	replyToken := newHex(16)
	s.tokens[replyToken] = s.Now()
	s.mu.Unlock()
	msg := map[string]any{"id": messageID, "type": typ, "quoteToken": newHex(8), "contentProvider": map[string]string{"type": "line"}}
	if typ == "file" {
		msg["fileName"], msg["fileSize"] = fileName, len(data)
	}
	body, _ = json.Marshal(map[string]any{"destination": s.Destination, "events": []any{map[string]any{
		"type": "message", "mode": "active", "timestamp": s.Now().UnixMilli(),
		"source":         map[string]string{"type": "user", "userId": userID},
		"webhookEventId": "01J" + newHex(12), "deliveryContext": map[string]bool{"isRedelivery": false},
		"replyToken": replyToken, "message": msg,
	}}})
	return body, messageID
}
