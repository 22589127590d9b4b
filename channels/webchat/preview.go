package webchat

import (
	"html/template"
	"net/http"
	"strings"

	"switchboard/channels"
)

// previewPage is the admin console's live preview of a widget: a blank
// page on the engine's own origin with the widget's one script tag, so the
// admin sees the widget as visitors will and can chat through it.
var previewPage = template.Must(template.New("preview").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Title}}</title>
<style>body{margin:0;min-height:100vh;font:14px system-ui,sans-serif;color:#57606a;background:repeating-linear-gradient(45deg,#f6f8fa,#f6f8fa 12px,#eef1f4 12px,#eef1f4 24px)}
p{margin:0;padding:16px}</style></head>
<body><p>{{.Title}}</p><script src="{{.Script}}" async></script></body></html>`))

// handlePreview serves GET /widget/{instance}/preview.
func (s *Server) handlePreview(w http.ResponseWriter, r *http.Request) {
	instance := r.PathValue("instance")
	if _, err := s.config(r.Context(), instance); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	previewPage.Execute(w, map[string]string{"Title": "Preview of the " + instance + " chat widget",
		"Script": "/widget/" + instance + "/widget.js"})
}

// ownOrigin reports whether origin is the engine's own (the preview page):
// the widget always works there, whatever the allowed sites.
func ownOrigin(r *http.Request, origin string) bool {
	return origin != "" && strings.EqualFold(origin, channels.RequestOrigin(r))
}
