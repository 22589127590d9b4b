// Package twiliotest is a fake Twilio for tests: it serves the Accounts fetch and the Messages API
// (basic auth, form posts, JSON answers, 429 injection), sends webhooks
// signed with X-Twilio-Signature the way Twilio does, serves inbound media
// as Twilio does with "enforce HTTP auth on media URLs" on (the MediaUrl
// needs basic auth and redirects to a short-lived signed address), and
// fetches each MediaUrl of a send as Twilio does. Standard library only.
package twiliotest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Request is one API call the fake received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Form   url.Values
}

// Server is a fake Twilio REST API.
type Server struct {
	*httptest.Server
	AccountSID string
	AuthToken  string
	// Now is the fake's clock (for date_created).
	Now func() time.Time

	mu        sync.Mutex
	requests  []Request
	callbacks map[string]string // sid → StatusCallback
	fail      int
	retry     string
	media     map[string]media // media path → file
	mediaGets int
	fetched   []Fetched
}

// media is an inbound file the fake keeps.
type media struct {
	typ  string
	data []byte
}

// Fetched is a file the fake fetched from a MediaUrl of a send.
type Fetched struct {
	URL    string
	Status int
	Type   string
	Data   []byte
}

// MediaTTL is how long the short-lived address a MediaUrl redirects to
// works.
const MediaTTL = 5 * time.Minute

// NewServer starts a fake for one account.
func NewServer(accountSID, authToken string) *Server {
	s := &Server{AccountSID: accountSID, AuthToken: authToken, Now: time.Now, callbacks: map[string]string{}, media: map[string]media{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Fail429 makes the next n API calls answer 429 with the given Retry-After
// header value ("" for none).
func (s *Server) Fail429(n int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail, s.retry = n, retryAfter
}

// Requests returns the API calls received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/signed/") {
		s.serveSigned(w, r)
		return
	}
	r.ParseForm()
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Form: r.PostForm})
	fail := s.fail > 0
	if fail {
		s.fail--
	}
	retry := s.retry
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.AccountSID || pass != s.AuthToken {
		writeErr(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/2010-04-01/Accounts/"+s.AccountSID+".json" {
		s.account(w)
		return
	}
	if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/Media/") {
		s.serveMedia(w, r)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+s.AccountSID+"/Messages.json" {
		writeErr(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	if fail {
		if retry != "" {
			w.Header().Set("Retry-After", retry)
		}
		writeErr(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
		return
	}
	f := r.PostForm
	if f.Get("To") == "" {
		writeErr(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	}
	if f.Get("From") == "" && f.Get("MessagingServiceSid") == "" {
		writeErr(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	}
	if f.Get("Body") == "" && len(f["MediaUrl"]) == 0 && f.Get("ContentSid") == "" {
		writeErr(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	}
	sid := NewSID("SM")
	for _, u := range f["MediaUrl"] {
		s.fetch(u)
	}
	s.mu.Lock()
	if cb := f.Get("StatusCallback"); cb != "" {
		s.callbacks[sid] = cb
	}
	s.mu.Unlock()
	status := "queued"
	if f.Get("MessagingServiceSid") != "" {
		status = "accepted"
	}
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{
		"sid": sid, "account_sid": s.AccountSID, "from": f.Get("From"), "to": f.Get("To"), "body": f.Get("Body"),
		"status": status, "num_segments": "1", "num_media": fmt.Sprint(len(f["MediaUrl"])), "direction": "outbound-api",
		"api_version": "2010-04-01", "error_code": nil, "error_message": nil,
		"date_created": s.Now().UTC().Format(time.RFC1123Z), "date_sent": nil,
		"uri": "/2010-04-01/Accounts/" + s.AccountSID + "/Messages/" + sid + ".json",
	})
}

// AddMedia keeps an inbound file and returns its MediaUrl, as an inbound
// MMS webhook names it.
func (s *Server) AddMedia(typ string, data []byte) string {
	path := "/2010-04-01/Accounts/" + s.AccountSID + "/Messages/" + NewSID("MM") + "/Media/" + NewSID("ME")
	s.mu.Lock()
	s.media[path] = media{typ: typ, data: data}
	s.mu.Unlock()
	return s.URL + path
}

// serveMedia answers a MediaUrl (basic auth checked by serve) with a
// redirect to a signed address that works for MediaTTL.
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	_, ok := s.media[r.URL.Path]
	s.mu.Unlock()
	if !ok {
		writeErr(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	exp := strconv.FormatInt(s.Now().Add(MediaTTL).Unix(), 10)
	http.Redirect(w, r, "/signed"+r.URL.Path+"?Expires="+exp+"&Signature="+s.mediaSignature(r.URL.Path, exp), http.StatusTemporaryRedirect)
}

func (s *Server) mediaSignature(path, exp string) string {
	mac := hmac.New(sha1.New, []byte(s.AuthToken+"/media"))
	io.WriteString(mac, path+"|"+exp)
	return hex.EncodeToString(mac.Sum(nil))
}

// serveSigned serves a file at its short-lived address: no credentials,
// but refused (403) once expired or with a wrong signature.
func (s *Server) serveSigned(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/signed")
	exp := r.URL.Query().Get("Expires")
	at, err := strconv.ParseInt(exp, 10, 64)
	s.mu.Lock()
	m, ok := s.media[path]
	s.mediaGets++
	s.mu.Unlock()
	if !ok || err != nil || s.Now().Unix() > at || !hmac.Equal([]byte(r.URL.Query().Get("Signature")), []byte(s.mediaSignature(path, exp))) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`)
		return
	}
	w.Header().Set("Content-Type", m.typ)
	w.Write(m.data)
}

// MediaGets counts requests for files' short-lived addresses.
func (s *Server) MediaGets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mediaGets
}

// fetch gets a MediaUrl of a send, as Twilio does before delivering.
func (s *Server) fetch(u string) {
	f := Fetched{URL: u}
	if resp, err := http.Get(u); err == nil {
		f.Status, f.Type = resp.StatusCode, resp.Header.Get("Content-Type")
		f.Data, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	s.mu.Lock()
	s.fetched = append(s.fetched, f)
	s.mu.Unlock()
}

// Fetched returns the files the fake fetched from sends' MediaUrls.
func (s *Server) Fetched() []Fetched {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Fetched(nil), s.fetched...)
}

// FriendlyName is the fake account's name, as the Accounts resource shows it.
const FriendlyName = "Switchboard Test Account"

// account answers the Accounts resource fetch the way Twilio documents it.
func (s *Server) account(w http.ResponseWriter) {
	created := s.Now().UTC().Add(-30 * 24 * time.Hour).Format(time.RFC1123Z)
	json.NewEncoder(w).Encode(map[string]any{
		"sid": s.AccountSID, "owner_account_sid": s.AccountSID, "friendly_name": FriendlyName,
		"status": "active", "type": "Full", "auth_token": s.AuthToken,
		"date_created": created, "date_updated": created,
		"uri":              "/2010-04-01/Accounts/" + s.AccountSID + ".json",
		"subresource_uris": map[string]string{"messages": "/2010-04-01/Accounts/" + s.AccountSID + "/Messages.json"},
	})
}

func writeErr(w http.ResponseWriter, status, code int, msg string) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status,
	})
}

// NewSID returns a random Twilio-style sid with the given prefix.
func NewSID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// Sign computes X-Twilio-Signature for a POST of params to rawURL the way
// Twilio's webhook security documentation describes: the full URL, then
// the POST parameters sorted by name, each name followed by its value with
// no delimiters; HMAC-SHA1 keyed with the auth token, base64-encoded.
func Sign(authToken, rawURL string, params url.Values) string {
	var b strings.Builder
	b.WriteString(rawURL)
	for _, name := range slices.Sorted(maps.Keys(params)) {
		for _, v := range slices.Sorted(slices.Values(params[name])) {
			b.WriteString(name + v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	io.WriteString(mac, b.String())
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// WebhookRequest builds the signed form POST Twilio would send to hookURL.
func (s *Server) WebhookRequest(hookURL string, params url.Values) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, hookURL, bytes.NewBufferString(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("I-Twilio-Idempotency-Token", NewSID(""))
	req.Header.Set("X-Twilio-Signature", Sign(s.AuthToken, hookURL, params))
	return req
}

// InboundParams returns the parameters of an inbound message from one
// number to another; media URLs make it an MMS.
func (s *Server) InboundParams(from, to, body string, media ...string) url.Values {
	sid := NewSID("SM")
	if len(media) > 0 {
		sid = NewSID("MM")
	}
	p := url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "SmsMessageSid": {sid}, "AccountSid": {s.AccountSID},
		"From": {from}, "To": {to}, "Body": {body}, "NumMedia": {fmt.Sprint(len(media))},
		"NumSegments": {"1"}, "SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"},
		"FromCountry": {"US"}, "ToCountry": {"US"},
	}
	for i, m := range media {
		p.Set(fmt.Sprintf("MediaUrl%d", i), m)
		p.Set(fmt.Sprintf("MediaContentType%d", i), "image/jpeg")
	}
	if strings.HasPrefix(from, "whatsapp:") {
		p.Set("WaId", strings.TrimPrefix(from, "whatsapp:+"))
		p.Set("ProfileName", "Ana")
	}
	return p
}

// StatusCallback posts a signed status callback for a message the fake
// sent, to the StatusCallback URL it was given. It returns the HTTP status.
func (s *Server) StatusCallback(sid, status, errorCode string) (int, error) {
	s.mu.Lock()
	cb := s.callbacks[sid]
	s.mu.Unlock()
	if cb == "" {
		return 0, fmt.Errorf("twiliotest: no StatusCallback for %s", sid)
	}
	p := url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {s.AccountSID}, "ApiVersion": {"2010-04-01"},
	}
	if errorCode != "" {
		p.Set("ErrorCode", errorCode)
	}
	resp, err := http.DefaultClient.Do(s.WebhookRequest(cb, p))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
