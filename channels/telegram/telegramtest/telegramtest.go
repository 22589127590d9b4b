// Package telegramtest is a fake Telegram Bot API for tests: getMe, sendMessage,
// getUpdates long polling (updates stay until confirmed by a higher
// offset), 429 answers with parameters.retry_after, webhook posts with
// the X-Telegram-Bot-Api-Secret-Token header, files as the Bot API serves
// them (getFile names a file_path, downloaded from /file/bot<token>/<path>
// with the token, at most 20 MB) and uploads with sendPhoto, sendVideo and
// sendDocument (multipart/form-data). Standard library only.
package telegramtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The fake bot's identity, as getMe reports it.
const (
	BotID       = 7000000001
	BotName     = "Switchboard Test"
	BotUsername = "switchboard_test_bot"
)

// Request is one API call the fake received.
type Request struct {
	Method string // the Bot API method, such as "sendMessage"
	Path   string
	Header http.Header
	Body   []byte
}

// Server is a fake Bot API for one bot.
type Server struct {
	*httptest.Server
	Token string
	Now   func() time.Time

	mu        sync.Mutex
	requests  []Request
	updates   []json.RawMessage // pending, with update_id
	nextID    int64
	messageID int64
	fail      int
	retry     int
	arrived   chan struct{}
	files     map[string]storedFile // file_id → file
	uploads   []Upload
	downloads int
	refuse    bool
}

// storedFile is a file the fake keeps for getFile.
type storedFile struct {
	path string
	data []byte
}

// Upload is a file the bot sent with sendPhoto, sendVideo or sendDocument.
type Upload struct {
	Method, ChatID, Caption string
	Name, Type              string
	Data                    []byte
}

// MaxDownload is the largest file bots may download (getFile refuses more).
const MaxDownload = 20 << 20

// NewServer starts a fake for the bot token.
func NewServer(token string) *Server {
	s := &Server{Token: token, Now: time.Now, nextID: 100000000, messageID: 1000, arrived: make(chan struct{}), files: map[string]storedFile{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Fail429 makes the next n calls answer 429 with retry_after seconds.
func (s *Server) Fail429(n, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail, s.retry = n, retryAfter
}

// Requests returns the calls received so far (getUpdates excluded).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/file/") {
		s.download(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	prefix := "/bot" + s.Token + "/"
	s.mu.Lock()
	refuse := s.refuse
	s.mu.Unlock()
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") && strings.HasPrefix(r.URL.Path, prefix) && !refuse {
		s.upload(w, r, strings.TrimPrefix(r.URL.Path, prefix))
		return
	}
	body, _ := io.ReadAll(r.Body)
	if !strings.HasPrefix(r.URL.Path, prefix) || refuse {
		reply(w, http.StatusUnauthorized, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
		return
	}
	method := strings.TrimPrefix(r.URL.Path, prefix)
	s.mu.Lock()
	if method != "getUpdates" {
		s.requests = append(s.requests, Request{Method: method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	}
	if s.fail > 0 {
		s.fail--
		retry := s.retry
		s.mu.Unlock()
		reply(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error_code": 429,
			"description": "Too Many Requests: retry after " + strconv.Itoa(retry), "parameters": map[string]int{"retry_after": retry}})
		return
	}
	s.mu.Unlock()
	switch method {
	case "sendMessage":
		var p struct {
			ChatID int64  `json:"chat_id"`
			Text   string `json:"text"`
		}
		if json.Unmarshal(body, &p) != nil || p.ChatID == 0 || p.Text == "" {
			reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: message text is empty"})
			return
		}
		s.mu.Lock()
		s.messageID++
		id := s.messageID
		s.mu.Unlock()
		reply(w, http.StatusOK, map[string]any{"ok": true, "result": map[string]any{
			"message_id": id, "from": map[string]any{"id": 1, "is_bot": true, "first_name": "Switchboard"},
			"chat": map[string]any{"id": p.ChatID, "type": "private"}, "date": s.Now().Unix(), "text": p.Text,
		}})
	case "getUpdates":
		s.getUpdates(w, r, body)
	case "getFile":
		s.getFile(w, body)
	case "getMe":
		// The bot's own User, as Telegram documents getMe.
		reply(w, http.StatusOK, map[string]any{"ok": true, "result": map[string]any{
			"id": BotID, "is_bot": true, "first_name": BotName, "username": BotUsername,
			"can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
		}})
	default:
		reply(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
	}
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, body []byte) {
	var p struct {
		Offset  int64 `json:"offset"`
		Timeout int   `json:"timeout"`
		Limit   int   `json:"limit"`
	}
	json.Unmarshal(body, &p)
	deadline := time.After(time.Duration(p.Timeout) * time.Second)
	for {
		s.mu.Lock()
		// A higher offset confirms (drops) earlier updates.
		keep := s.updates[:0]
		for _, u := range s.updates {
			if updateID(u) >= p.Offset {
				keep = append(keep, u)
			}
		}
		s.updates = keep
		out := append([]json.RawMessage{}, s.updates...)
		arrived := s.arrived
		s.mu.Unlock()
		if p.Limit > 0 && len(out) > p.Limit {
			out = out[:p.Limit]
		}
		if len(out) > 0 || p.Timeout == 0 {
			reply(w, http.StatusOK, map[string]any{"ok": true, "result": out})
			return
		}
		select {
		case <-arrived:
		case <-deadline:
			reply(w, http.StatusOK, map[string]any{"ok": true, "result": []any{}})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func updateID(u json.RawMessage) int64 {
	var v struct {
		UpdateID int64 `json:"update_id"`
	}
	json.Unmarshal(u, &v)
	return v.UpdateID
}

func reply(w http.ResponseWriter, status int, v any) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// TextUpdate returns an Update with a private text message from userID and
// its normalized message id ("chat:message_id").
func (s *Server) TextUpdate(userID int64, firstName, text string) ([]byte, string) {
	s.mu.Lock()
	s.nextID++
	s.messageID++
	uid, mid := s.nextID, s.messageID
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"update_id": uid, "message": map[string]any{
		"message_id": mid,
		"from":       map[string]any{"id": userID, "is_bot": false, "first_name": firstName, "language_code": "en"},
		"chat":       map[string]any{"id": userID, "type": "private", "first_name": firstName},
		"date":       s.Now().Unix(), "text": text,
	}})
	return b, strconv.FormatInt(userID, 10) + ":" + strconv.FormatInt(mid, 10)
}

// RevokeToken makes the fake refuse the bot token from now on (401), as
// Telegram does once @BotFather revokes it.
func (s *Server) RevokeToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = true
}

// AddFile keeps a file the way Telegram stores what users send, and
// returns its file_id.
func (s *Server) AddFile(name string, data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := "BQACAgIAAxkBAAI" + strconv.FormatInt(s.nextID, 36)
	s.files[id] = storedFile{path: "documents/file_" + strconv.Itoa(len(s.files)) + "_" + name, data: data}
	return id
}

// PhotoUpdate returns an Update with a photo (in two sizes, the larger
// being fileID) and a caption, and its normalized message id.
func (s *Server) PhotoUpdate(userID int64, firstName, caption, fileID string, size int) ([]byte, string) {
	s.mu.Lock()
	s.nextID++
	s.messageID++
	uid, mid := s.nextID, s.messageID
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"update_id": uid, "message": map[string]any{
		"message_id": mid,
		"from":       map[string]any{"id": userID, "is_bot": false, "first_name": firstName},
		"chat":       map[string]any{"id": userID, "type": "private", "first_name": firstName},
		"date":       s.Now().Unix(), "caption": caption,
		"photo": []any{
			map[string]any{"file_id": fileID + "-small", "file_unique_id": "AQADs", "width": 90, "height": 67, "file_size": 1200},
			map[string]any{"file_id": fileID, "file_unique_id": "AQADl", "width": 1280, "height": 960, "file_size": size},
		},
	}})
	return b, strconv.FormatInt(userID, 10) + ":" + strconv.FormatInt(mid, 10)
}

// getFile answers with a File: its file_path, valid for an hour.
func (s *Server) getFile(w http.ResponseWriter, body []byte) {
	var p struct {
		FileID string `json:"file_id"`
	}
	json.Unmarshal(body, &p)
	s.mu.Lock()
	f, ok := s.files[p.FileID]
	s.mu.Unlock()
	switch {
	case !ok:
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: invalid file_id"})
	case len(f.data) > MaxDownload:
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: file is too big"})
	default:
		reply(w, http.StatusOK, map[string]any{"ok": true, "result": map[string]any{
			"file_id": p.FileID, "file_unique_id": "AgAD" + p.FileID[len(p.FileID)-4:], "file_size": len(f.data), "file_path": f.path}})
	}
}

// download serves /file/bot<token>/<file_path>: the bytes, to the bot only.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"+s.Token+"/")
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok && !s.refuse {
		for _, f := range s.files {
			if f.path == rest {
				s.downloads++
				w.Header().Set("Content-Type", "application/octet-stream")
				w.Write(f.data)
				return
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	reply(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
}

// Downloads counts the files the fake served.
func (s *Server) Downloads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.downloads
}

// upload answers sendPhoto, sendVideo and sendDocument with the file as a
// multipart part.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, method string) {
	field := map[string]string{"sendPhoto": "photo", "sendVideo": "video", "sendDocument": "document"}[method]
	if field == "" || r.ParseMultipartForm(64<<20) != nil {
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: unsupported upload"})
		return
	}
	file, hdr, err := r.FormFile(field)
	chatID := r.FormValue("chat_id")
	if err != nil || chatID == "" {
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: there is no " + field + " in the request"})
		return
	}
	data, _ := io.ReadAll(file)
	if method == "sendPhoto" && len(data) > 10<<20 {
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: PHOTO_SAVE_FILE_INVALID"})
		return
	}
	s.mu.Lock()
	s.messageID++
	id := s.messageID
	s.uploads = append(s.uploads, Upload{Method: method, ChatID: chatID, Caption: r.FormValue("caption"), Name: hdr.Filename,
		Type: hdr.Header.Get("Content-Type"), Data: data})
	s.mu.Unlock()
	chat, _ := strconv.ParseInt(chatID, 10, 64)
	reply(w, http.StatusOK, map[string]any{"ok": true, "result": map[string]any{
		"message_id": id, "chat": map[string]any{"id": chat, "type": "private"}, "date": s.Now().Unix()}})
}

// Uploads returns the files the bot sent.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Upload(nil), s.uploads...)
}

// Queue adds an update for getUpdates.
func (s *Server) Queue(update []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates = append(s.updates, update)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

// Pending returns how many updates are not yet confirmed.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// WebhookRequest builds Telegram's POST of an update to hookURL.
func WebhookRequest(hookURL, secretToken string, update []byte) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(update))
	req.Header.Set("Content-Type", "application/json")
	if secretToken != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secretToken)
	}
	return req
}
