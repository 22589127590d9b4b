// Package customtest is a fake platform for the custom channel API: it
// receives Switchboard's signed replies (checking the signature and
// deduplicating on Idempotency-Key, as receivers must), can answer 429, and
// signs events the way the channel API requires. Standard library only.
package customtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// Request is one reply the fake received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	// Valid reports whether its signature checked out.
	Valid bool
}

// Server is a fake platform.
type Server struct {
	*httptest.Server
	Secret string
	Now    func() time.Time

	mu       sync.Mutex
	requests []Request
	seen     map[string]string
	next     int
	fail     int
	retry    string
}

// NewServer starts a fake sharing secret with Switchboard.
func NewServer(secret string) *Server {
	s := &Server{Secret: secret, Now: time.Now, seen: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Fail429 makes the next n replies answer 429 with the given Retry-After.
func (s *Server) Fail429(n int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail, s.retry = n, retryAfter
}

// Requests returns the replies received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Sign returns the X-Switchboard-Signature value for body at ts.
func Sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", ts)
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts, _ := strconv.ParseInt(r.Header.Get("X-Switchboard-Timestamp"), 10, 64)
	valid := hmac.Equal([]byte(r.Header.Get("X-Switchboard-Signature")), []byte(Sign(s.Secret, ts, body)))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Valid: valid})
	w.Header().Set("Content-Type", "application/json")
	if !valid {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"bad signature"}`)
		return
	}
	if s.fail > 0 {
		s.fail--
		if s.retry != "" {
			w.Header().Set("Retry-After", s.retry)
		}
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":"slow down"}`)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	id, dup := s.seen[key]
	if !dup {
		s.next++
		id = "ext-" + strconv.Itoa(s.next)
		s.seen[key] = id
	}
	json.NewEncoder(w).Encode(map[string]string{"id": id})
}

// WebhookRequest builds a signed event POST to hookURL at the fake's now.
func (s *Server) WebhookRequest(hookURL string, event any) *http.Request {
	body, _ := json.Marshal(event)
	ts := s.Now().Unix()
	req, _ := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Switchboard-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Switchboard-Signature", Sign(s.Secret, ts, body))
	return req
}
