// Package messengertest is a fake Meta Send API for Messenger and Instagram
// tests: POST /{version}/me/messages?access_token=… (Messenger) and
// /{version}/{account-id}/messages with a bearer token (Instagram), Graph
// errors with 429 injection, and webhooks signed with X-Hub-Signature-256
// like Meta does. Standard library only.
package messengertest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"switchboard/channels/meta/metatest"
)

// Request is one API call the fake received.
type Request struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// Server is a fake Graph API for one Page or IG account.
type Server struct {
	*httptest.Server
	AppSecret   string
	AccessToken string
	AccountID   string
	// Object is "page" (Messenger) or "instagram".
	Object string
	Now    func() time.Time

	mu       sync.Mutex
	requests []Request
	fail     int
	retry    string
}

// NewServer starts a fake for object "page" or "instagram".
func NewServer(object, appSecret, accessToken, accountID string) *Server {
	s := &Server{Object: object, AppSecret: appSecret, AccessToken: accessToken, AccountID: accountID, Now: time.Now}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Fail429 makes the next n calls answer 429 (Graph code 613) with the
// given Retry-After header.
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

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	fail := s.fail > 0
	if fail {
		s.fail--
	}
	retry := s.retry
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if metatest.DebugToken(w, r, s.AppSecret, s.AccessToken, "PAGE", []string{"pages_messaging", "pages_manage_metadata", "instagram_manage_messages"}) {
		return
	}
	token := r.URL.Query().Get("access_token")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		token = strings.TrimPrefix(h, "Bearer ")
	}
	if token != s.AccessToken {
		graphErr(w, http.StatusBadRequest, 190, "Invalid OAuth access token.")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodPost || len(parts) != 3 || parts[2] != "messages" || (parts[1] != "me" && parts[1] != s.AccountID) {
		graphErr(w, http.StatusBadRequest, 100, "Unsupported post request.")
		return
	}
	if fail {
		if retry != "" {
			w.Header().Set("Retry-After", retry)
		}
		graphErr(w, http.StatusTooManyRequests, 613, "Calls to this api have exceeded the rate limit.")
		return
	}
	var m struct {
		Recipient struct{ ID string } `json:"recipient"`
		Message   map[string]any      `json:"message"`
	}
	if json.Unmarshal(body, &m) != nil || m.Recipient.ID == "" || len(m.Message) == 0 {
		graphErr(w, http.StatusBadRequest, 100, "Invalid parameter")
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"recipient_id": m.Recipient.ID, "message_id": NewMid()})
}

func graphErr(w http.ResponseWriter, status, code int, msg string) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "AbC"}})
}

// NewMid returns a random message id.
func NewMid() string {
	var b [12]byte
	rand.Read(b[:])
	return "m_" + hex.EncodeToString(b[:])
}

// Sign returns X-Hub-Signature-256 for body.
func Sign(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// WebhookRequest builds Meta's signed POST of body to hookURL.
func (s *Server) WebhookRequest(hookURL string, body []byte) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", Sign(s.AppSecret, body))
	return req
}

func (s *Server) envelope(items ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"object": s.Object, "entry": []any{map[string]any{
		"id": s.AccountID, "time": s.Now().UnixMilli(), "messaging": items,
	}}})
	return b
}

// TextMessage returns the webhook body of a text from a user and its mid.
func (s *Server) TextMessage(userID, text string) ([]byte, string) {
	mid := NewMid()
	return s.envelope(map[string]any{
		"sender": map[string]string{"id": userID}, "recipient": map[string]string{"id": s.AccountID},
		"timestamp": s.Now().UnixMilli(), "message": map[string]any{"mid": mid, "text": text},
	}), mid
}

// Delivery returns a delivery receipt for mids.
func (s *Server) Delivery(userID string, mids ...string) []byte {
	return s.envelope(map[string]any{
		"sender": map[string]string{"id": userID}, "recipient": map[string]string{"id": s.AccountID},
		"timestamp": s.Now().UnixMilli(), "delivery": map[string]any{"mids": mids, "watermark": s.Now().UnixMilli()},
	})
}

// Read returns a read receipt with the watermark at the fake's now.
func (s *Server) Read(userID string) []byte {
	return s.envelope(map[string]any{
		"sender": map[string]string{"id": userID}, "recipient": map[string]string{"id": s.AccountID},
		"timestamp": s.Now().UnixMilli(), "read": map[string]any{"watermark": s.Now().UnixMilli()},
	})
}
