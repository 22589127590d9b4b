package webchat

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

var (
	//go:embed widget.js
	widgetJS string
	//go:embed widget.css
	widgetCSS string
)

// bundle is the widget script with its style sheet inlined (the look of
// one instance is inlined per request, see script).
var bundle = sync.OnceValue(func() string {
	css, _ := json.Marshal(strings.TrimSpace(widgetCSS))
	return strings.Replace(widgetJS, `"/*CSS*/"`, string(css), 1)
})

// Bundle returns the widget script as served for a default look and its
// gzip-compressed size.
func Bundle() (js []byte, gzipSize int) {
	s := buildScript(&Config{AllowedOrigins: []string{"*"}, Title: "Chat with us", Color: "#2b6cb0"})
	return s.js, len(s.gz)
}

// ScriptLook is what the script knows before any request: the widget's
// colour and title (so the launcher is painted in the brand colour from
// the start) and the sites allowed to embed it (a page elsewhere shows
// nothing; the server refuses it anyway).
type ScriptLook struct {
	Color          string   `json:"color"`
	Title          string   `json:"title"`
	AllowedOrigins []string `json:"allowedOrigins"`
}

// script is one instance's served script, plain and gzipped, with its ETag.
type script struct {
	js, gz []byte
	etag   string
}

func buildScript(cfg *Config) *script {
	look, _ := json.Marshal(ScriptLook{Color: cfg.Color, Title: cfg.Title, AllowedOrigins: cfg.AllowedOrigins})
	js := []byte(strings.Replace(bundle(), `"/*LOOK*/"`, string(look), 1))
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	w.Write(js)
	w.Close()
	sum := sha256.Sum256(js)
	return &script{js: js, gz: z.Bytes(), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// scripts caches built scripts by their look, so a page view costs no
// compression.
type scripts struct {
	mu    sync.Mutex
	byKey map[string]*script
}

func (s *scripts) get(cfg *Config) *script {
	key, _ := json.Marshal(ScriptLook{Color: cfg.Color, Title: cfg.Title, AllowedOrigins: cfg.AllowedOrigins})
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc := s.byKey[string(key)]; sc != nil {
		return sc
	}
	if s.byKey == nil || len(s.byKey) > 256 {
		s.byKey = map[string]*script{}
	}
	sc := buildScript(cfg)
	s.byKey[string(key)] = sc
	return sc
}

// handleScript serves the one script a site embeds, with the instance's
// look inlined.
func (s *Server) handleScript(w http.ResponseWriter, r *http.Request) {
	cfg, err := s.config(r.Context(), r.PathValue("instance"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sc := s.scripts.get(cfg)
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("ETag", sc.etag)
	h.Add("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == sc.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := sc.js
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = sc.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}
