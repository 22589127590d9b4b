// Package whatsapptest is a fake WhatsApp Cloud API for tests: it serves
// GET /{version}/debug_token, POST /{version}/{phone-number-id}/messages with bearer auth and Graph
// errors (429 injection included), and builds webhooks signed with
// X-Hub-Signature-256 like Meta does. Standard library only.
package whatsapptest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
	Header http.Header
	Body   []byte
}

// Server is a fake Graph API for one WhatsApp business number.
type Server struct {
	*httptest.Server
	AppSecret     string
	AccessToken   string
	PhoneNumberID string
	// Now stamps webhooks.
	Now func() time.Time

	mu       sync.Mutex
	requests []Request
	fail     int
	retry    string
}

// NewServer starts a fake.
func NewServer(appSecret, accessToken, phoneNumberID string) *Server {
	s := &Server{AppSecret: appSecret, AccessToken: accessToken, PhoneNumberID: phoneNumberID, Now: time.Now}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Fail429 makes the next n calls answer 429 (Graph code 130429) with the
// given Retry-After header ("" for none).
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
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	fail := s.fail > 0
	if fail {
		s.fail--
	}
	retry := s.retry
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if metatest.DebugToken(w, r, s.AppSecret, s.AccessToken, "SYSTEM_USER", []string{"whatsapp_business_management", "whatsapp_business_messaging"}) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.AccessToken {
		graphErr(w, http.StatusUnauthorized, 190, "Invalid OAuth access token.")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodPost || len(parts) != 3 || parts[1] != s.PhoneNumberID || parts[2] != "messages" {
		graphErr(w, http.StatusBadRequest, 100, "Unsupported post request.")
		return
	}
	if fail {
		if retry != "" {
			w.Header().Set("Retry-After", retry)
		}
		graphErr(w, http.StatusTooManyRequests, 130429, "Rate limit hit")
		return
	}
	var m struct {
		Product string `json:"messaging_product"`
		To      string `json:"to"`
		Type    string `json:"type"`
	}
	if json.Unmarshal(body, &m) != nil || m.Product != "whatsapp" || m.To == "" || m.Type == "" {
		graphErr(w, http.StatusBadRequest, 100, "Invalid parameter")
		return
	}
	json.NewEncoder(w).Encode(map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{{"input": m.To, "wa_id": m.To}},
		"messages":          []map[string]string{{"id": NewWAMID()}},
	})
}

func graphErr(w http.ResponseWriter, status, code int, msg string) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf",
		"error_data": map[string]string{"messaging_product": "whatsapp", "details": msg},
	}})
}

// NewWAMID returns a random WhatsApp message id.
func NewWAMID() string {
	var b [18]byte
	rand.Read(b[:])
	return "wamid." + base64.RawURLEncoding.EncodeToString(b[:])
}

// Sign returns X-Hub-Signature-256 for body.
func Sign(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// WebhookRequest builds Meta's signed POST of body to hookURL (with the
// legacy SHA-1 header as Meta still sends it).
func (s *Server) WebhookRequest(hookURL string, body []byte) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facebookexternalua")
	req.Header.Set("X-Hub-Signature-256", Sign(s.AppSecret, body))
	mac := hmac.New(sha1.New, []byte(s.AppSecret))
	mac.Write(body)
	req.Header.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(mac.Sum(nil)))
	return req
}

func (s *Server) envelope(value map[string]any) []byte {
	value["messaging_product"] = "whatsapp"
	value["metadata"] = map[string]string{"display_phone_number": "15550001234", "phone_number_id": s.PhoneNumberID}
	b, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": "100000000000001", "changes": []any{map[string]any{"field": "messages", "value": value}},
	}}})
	return b
}

// TextMessage returns the webhook body of a text message from waID; it
// returns the body and the message's wamid.
func (s *Server) TextMessage(waID, name, text string) ([]byte, string) {
	id := NewWAMID()
	return s.envelope(map[string]any{
		"contacts": []any{map[string]any{"profile": map[string]string{"name": name}, "wa_id": waID}},
		"messages": []any{map[string]any{"from": waID, "id": id, "timestamp": fmt.Sprint(s.Now().Unix()), "type": "text",
			"text": map[string]string{"body": text}}},
	}), id
}

// StatusUpdate returns the webhook body of a status for a sent message.
func (s *Server) StatusUpdate(wamid, status, recipient string) []byte {
	st := map[string]any{"id": wamid, "status": status, "timestamp": fmt.Sprint(s.Now().Unix()), "recipient_id": recipient}
	if status == "failed" {
		st["errors"] = []any{map[string]any{"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable"}}
	}
	return s.envelope(map[string]any{"statuses": []any{st}})
}
