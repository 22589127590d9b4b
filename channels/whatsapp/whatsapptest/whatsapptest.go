// Package whatsapptest is a fake WhatsApp Cloud API for tests: it serves
// GET /{version}/debug_token, POST /{version}/{phone-number-id}/messages with bearer auth and Graph
// errors (429 injection included), builds webhooks signed with
// X-Hub-Signature-256 like Meta does, and serves media as the Cloud API
// does: GET /{version}/{media-id} names a short-lived address (5 minutes)
// that needs the same bearer token, and POST /{version}/{phone-number-id}/media
// takes uploads (multipart) that messages then name by id. Standard
// library only.
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
	"strconv"
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

	mu        sync.Mutex
	requests  []Request
	fail      int
	retry     string
	media     map[string]stored // media id → file
	mediaGets int
	sent      []SentMedia
}

// stored is a media file the fake keeps.
type stored struct {
	typ, name string
	data      []byte
}

// SentMedia is a file a message carried to the user, by uploaded id.
type SentMedia struct {
	To, Type, Caption, Filename string
	Data                        []byte
}

// MediaURLTTL is how long the address GET /{version}/{media-id} gives works.
const MediaURLTTL = 5 * time.Minute

// NewServer starts a fake.
func NewServer(appSecret, accessToken, phoneNumberID string) *Server {
	s := &Server{AppSecret: appSecret, AccessToken: accessToken, PhoneNumberID: phoneNumberID, Now: time.Now, media: map[string]stored{}}
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
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/whatsapp_business/attachments/":
		s.download(w, r)
		return
	case r.Method == http.MethodGet && len(parts) == 2:
		s.mediaInfo(w, parts[1])
		return
	case r.Method == http.MethodPost && len(parts) == 3 && parts[1] == s.PhoneNumberID && parts[2] == "media":
		s.upload(w, r, body)
		return
	}
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
	if m.Type != "text" {
		var obj map[string]struct {
			ID       string `json:"id"`
			Caption  string `json:"caption"`
			Filename string `json:"filename"`
		}
		json.Unmarshal(body, &obj)
		if o := obj[m.Type]; o.ID != "" {
			s.mu.Lock()
			f, ok := s.media[o.ID]
			if ok {
				s.sent = append(s.sent, SentMedia{To: m.To, Type: f.typ, Caption: o.Caption, Filename: o.Filename, Data: f.data})
			}
			s.mu.Unlock()
			if !ok {
				graphErr(w, http.StatusBadRequest, 131053, "Media upload error")
				return
			}
		}
	}
	json.NewEncoder(w).Encode(map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{{"input": m.To, "wa_id": m.To}},
		"messages":          []map[string]string{{"id": NewWAMID()}},
	})
}

// AddMedia keeps a file as WhatsApp keeps what users send, and returns
// its media id.
func (s *Server) AddMedia(typ string, data []byte) string {
	s.mu.Lock()
	id := fmt.Sprintf("%d", 1000000000000000+len(s.media)+1)
	s.media[id] = stored{typ: typ, data: data}
	s.mu.Unlock()
	return id
}

// mediaInfo answers GET /{version}/{media-id} with the file's short-lived
// address, type, size and SHA-256.
func (s *Server) mediaInfo(w http.ResponseWriter, id string) {
	s.mu.Lock()
	f, ok := s.media[id]
	s.mu.Unlock()
	if !ok {
		graphErr(w, http.StatusNotFound, 100, "Unsupported get request. Object with ID '"+id+"' does not exist.")
		return
	}
	sum := sha256.Sum256(f.data)
	exp := strconv.FormatInt(s.Now().Add(MediaURLTTL).Unix(), 10)
	json.NewEncoder(w).Encode(map[string]any{"messaging_product": "whatsapp", "id": id, "mime_type": f.typ,
		"sha256": hex.EncodeToString(sum[:]), "file_size": len(f.data),
		"url": s.URL + "/whatsapp_business/attachments/?mid=" + id + "&ext=" + exp + "&hash=" + s.urlHash(id, exp)})
}

func (s *Server) urlHash(id, exp string) string {
	mac := hmac.New(sha256.New, []byte(s.AppSecret+"/media"))
	mac.Write([]byte(id + "|" + exp))
	return hex.EncodeToString(mac.Sum(nil))[:24]
}

// download serves a file at its short-lived address (bearer checked by
// serve); expired or forged addresses are 404.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("ext"), 10, 64)
	s.mu.Lock()
	f, ok := s.media[q.Get("mid")]
	s.mediaGets++
	s.mu.Unlock()
	if !ok || err != nil || s.Now().Unix() > exp || !hmac.Equal([]byte(q.Get("hash")), []byte(s.urlHash(q.Get("mid"), q.Get("ext")))) {
		graphErr(w, http.StatusNotFound, 100, "The URL has expired.")
		return
	}
	w.Header().Set("Content-Type", f.typ)
	w.Write(f.data)
}

// MediaGets counts downloads of files' short-lived addresses.
func (s *Server) MediaGets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mediaGets
}

// upload answers POST /{version}/{phone-number-id}/media: multipart with
// messaging_product, type and file.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := r.ParseMultipartForm(128 << 20); err != nil || r.FormValue("messaging_product") != "whatsapp" {
		graphErr(w, http.StatusBadRequest, 100, "Invalid parameter")
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		graphErr(w, http.StatusBadRequest, 100, "The parameter file is required.")
		return
	}
	data, _ := io.ReadAll(f)
	typ := r.FormValue("type")
	if strings.HasPrefix(typ, "image/") && len(data) > 5<<20 {
		graphErr(w, http.StatusBadRequest, 131053, "Media upload error: image too large")
		return
	}
	id := s.AddMedia(typ, data)
	s.mu.Lock()
	m := s.media[id]
	m.name = hdr.Filename
	s.media[id] = m
	s.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]string{"id": id})
}

// SentMedia returns the files messages carried by media id.
func (s *Server) SentMedia() []SentMedia {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMedia(nil), s.sent...)
}

// MediaMessage returns the webhook body of a message from waID carrying the
// media id (an image, a document…) with a caption, and its wamid.
func (s *Server) MediaMessage(waID, typ, mediaID, mimeType, caption string) ([]byte, string) {
	id := NewWAMID()
	s.mu.Lock()
	sum := sha256.Sum256(s.media[mediaID].data)
	s.mu.Unlock()
	return s.envelope(map[string]any{
		"contacts": []any{map[string]any{"profile": map[string]string{"name": "Ana"}, "wa_id": waID}},
		"messages": []any{map[string]any{"from": waID, "id": id, "timestamp": fmt.Sprint(s.Now().Unix()), "type": typ,
			typ: map[string]string{"id": mediaID, "mime_type": mimeType, "sha256": base64.StdEncoding.EncodeToString(sum[:]), "caption": caption}}},
	}), id
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
