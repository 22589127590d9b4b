// Package messengertest is a fake Meta Send API for Messenger and Instagram
// tests: POST /{version}/me/messages?access_token=… (Messenger) and
// /{version}/{account-id}/messages with a bearer token (Instagram), Graph
// errors with 429 injection, webhooks signed with X-Hub-Signature-256
// like Meta does, the CDN where users' attachments are (signed addresses
// that expire: oe= in hex seconds, 403 "URL signature expired" after), the
// attachment upload API (/me/message_attachments, multipart) and attachments
// sent by URL, which the fake fetches as Meta does. Standard library only.
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

	mu          sync.Mutex
	requests    []Request
	fail        int
	retry       string
	cdn         map[string][]byte // path → file
	cdnGets     int
	attachments map[string]Delivered
	delivered   []Delivered
}

// Delivered is a file a message carried to the user: uploaded before
// (attachment_id) or fetched from the message's URL.
type Delivered struct {
	Recipient string
	Type      string
	Name      string
	Data      []byte
}

// CDNTTL is how long an attachment's CDN address works.
const CDNTTL = time.Hour

// NewServer starts a fake for object "page" or "instagram".
func NewServer(object, appSecret, accessToken, accountID string) *Server {
	s := &Server{Object: object, AppSecret: appSecret, AccessToken: accessToken, AccountID: accountID, Now: time.Now,
		cdn: map[string][]byte{}, attachments: map[string]Delivered{}}
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
	if strings.HasPrefix(r.URL.Path, "/cdn/") {
		s.serveCDN(w, r)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/me/message_attachments") && r.Method == http.MethodPost {
		s.upload(w, r)
		return
	}
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
	var att struct {
		Message struct {
			Attachment *struct {
				Type    string `json:"type"`
				Payload struct {
					URL          string `json:"url"`
					AttachmentID string `json:"attachment_id"`
				} `json:"payload"`
			} `json:"attachment"`
		} `json:"message"`
	}
	json.Unmarshal(body, &att)
	if a := att.Message.Attachment; a != nil {
		if !s.deliver(m.Recipient.ID, a.Type, a.Payload.URL, a.Payload.AttachmentID) {
			graphErr(w, http.StatusBadRequest, 100, "(#100) Failed to fetch the file from the url")
			return
		}
	}
	json.NewEncoder(w).Encode(map[string]string{"recipient_id": m.Recipient.ID, "message_id": NewMid()})
}

func graphErr(w http.ResponseWriter, status, code int, msg string) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "AbC"}})
}

// deliver records the file of an attachment message: an uploaded
// attachment_id, or the URL fetched as Meta does.
func (s *Server) deliver(recipient, typ, u, id string) bool {
	d := Delivered{Recipient: recipient, Type: typ}
	if id != "" {
		s.mu.Lock()
		up, ok := s.attachments[id]
		s.mu.Unlock()
		if !ok {
			return false
		}
		d.Name, d.Data = up.Name, up.Data
	} else {
		resp, err := http.Get(u)
		if err != nil {
			return false
		}
		d.Data, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false
		}
	}
	s.mu.Lock()
	s.delivered = append(s.delivered, d)
	s.mu.Unlock()
	return true
}

// Delivered returns the files messages carried to users.
func (s *Server) Delivered() []Delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivered(nil), s.delivered...)
}

// upload answers the attachment upload API: multipart "message" (the
// attachment's type) and "filedata", with the page token in the query.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Query().Get("access_token") != s.AccessToken {
		graphErr(w, http.StatusBadRequest, 190, "Invalid OAuth access token.")
		return
	}
	if err := r.ParseMultipartForm(64 << 20); err != nil {
		graphErr(w, http.StatusBadRequest, 100, "Invalid parameter")
		return
	}
	var msg struct {
		Attachment struct {
			Type string `json:"type"`
		} `json:"attachment"`
	}
	f, hdr, err := r.FormFile("filedata")
	if json.Unmarshal([]byte(r.FormValue("message")), &msg) != nil || msg.Attachment.Type == "" || err != nil {
		graphErr(w, http.StatusBadRequest, 100, "(#100) Upload attachment failure.")
		return
	}
	data, _ := io.ReadAll(f)
	if len(data) > 25<<20 {
		graphErr(w, http.StatusBadRequest, 100, "(#100) Upload attachment failure: the file is too large.")
		return
	}
	id := strings.TrimPrefix(NewMid(), "m_")
	s.mu.Lock()
	s.attachments[id] = Delivered{Type: msg.Attachment.Type, Name: hdr.Filename, Data: data}
	s.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]string{"attachment_id": id})
}

// cdnURL returns the CDN address of p signed until exp, as Meta's are
// (oh: a signature, oe: the expiry in hex seconds).
func (s *Server) cdnURL(p string, exp time.Time) string {
	oe := strconv.FormatInt(exp.Unix(), 16)
	mac := hmac.New(sha256.New, []byte(s.AppSecret+"/cdn"))
	mac.Write([]byte(p + "|" + oe))
	return s.URL + p + "?_nc_cat=1&_nc_sid=abc&oh=" + hex.EncodeToString(mac.Sum(nil))[:32] + "&oe=" + oe
}

// serveCDN serves an attachment while its address is valid.
func (s *Server) serveCDN(w http.ResponseWriter, r *http.Request) {
	oe := r.URL.Query().Get("oe")
	exp, err := strconv.ParseInt(oe, 16, 64)
	s.mu.Lock()
	data, ok := s.cdn[r.URL.Path]
	s.cdnGets++
	now := s.Now()
	s.mu.Unlock()
	want := s.cdnURL(r.URL.Path, time.Unix(exp, 0))
	if !ok || err != nil || now.Unix() > exp || !strings.HasSuffix(want, "?"+r.URL.RawQuery) {
		http.Error(w, "URL signature expired", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", http.DetectContentType(data))
	w.Write(data)
}

// CDNGets counts requests to the CDN.
func (s *Server) CDNGets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cdnGets
}

// MediaMessage returns the webhook body of a message from a user carrying
// one file of the attachment type typ (image, video, audio, file), put on
// the CDN for CDNTTL, and its mid.
func (s *Server) MediaMessage(userID, typ string, data []byte) ([]byte, string) {
	mid := NewMid()
	p := "/cdn/v/t1/" + mid + "." + map[string]string{"image": "jpg", "video": "mp4", "audio": "mp4"}[typ]
	s.mu.Lock()
	s.cdn[p] = data
	s.mu.Unlock()
	return s.envelope(map[string]any{
		"sender": map[string]string{"id": userID}, "recipient": map[string]string{"id": s.AccountID},
		"timestamp": s.Now().UnixMilli(), "message": map[string]any{"mid": mid,
			"attachments": []any{map[string]any{"type": typ, "payload": map[string]string{"url": s.cdnURL(p, s.Now().Add(CDNTTL))}}}},
	}), mid
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
