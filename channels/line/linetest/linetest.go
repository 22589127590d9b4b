// Package linetest is a fake LINE Messaging API for tests: reply (single-use
// reply tokens that expire) and push (X-Line-Retry-Key answered 409 on a
// repeat), bearer auth, 429 injection, and webhooks signed with
// x-line-signature like LINE does. Standard library only.
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

	mu       sync.Mutex
	requests []Request
	tokens   map[string]time.Time
	retried  map[string]string
	fail     int
	retry    string
}

// NewServer starts a fake.
func NewServer(channelSecret, accessToken string) *Server {
	s := &Server{ChannelSecret: channelSecret, AccessToken: accessToken, Destination: "U0123456789abcdef0123456789abcdef",
		Now: time.Now, TokenTTL: time.Minute, tokens: map[string]time.Time{}, retried: map[string]string{}}
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
	for range req.Messages {
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
