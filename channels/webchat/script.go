package webchat

import (
	"bytes"
	"compress/gzip"
	_ "embed"
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

// bundle is the widget script with its style sheet inlined, and its gzip.
var bundle = sync.OnceValues(func() ([]byte, []byte) {
	css, _ := json.Marshal(strings.TrimSpace(widgetCSS))
	js := []byte(strings.Replace(widgetJS, `"/*CSS*/"`, string(css), 1))
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	w.Write(js)
	w.Close()
	return js, z.Bytes()
})

// Bundle returns the widget script as served and its gzip-compressed size.
func Bundle() (js []byte, gzipSize int) {
	js, z := bundle()
	return js, len(z)
}

// handleScript serves the one script a site embeds. It is the same for every
// instance: the script reads its instance from its own URL.
func (s *Server) handleScript(w http.ResponseWriter, r *http.Request) {
	if _, err := s.config(r.Context(), r.PathValue("instance")); err != nil {
		s.fail(w, r, err)
		return
	}
	js, z := bundle()
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Add("Vary", "Accept-Encoding")
	body := js
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = z
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}
