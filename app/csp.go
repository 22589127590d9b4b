package app

import (
	"io/fs"
	"net/http"
	"regexp"
)

// cspMeta finds the page's Content-Security-Policy meta tag.
var cspMeta = regexp.MustCompile(`http-equiv="Content-Security-Policy"\s+content="([^"]+)"`)

// pagePolicy returns the built page's own Content-Security-Policy (its
// meta tag, the one source of the policy) with frame-ancestors 'none',
// which only a header can carry. A page without one gets only 'self'.
func pagePolicy(assets fs.FS) string {
	b, _ := fs.ReadFile(assets, "index.html")
	if m := cspMeta.FindSubmatch(b); m != nil {
		return string(m[1]) + "; frame-ancestors 'none'"
	}
	return "default-src 'self'; frame-ancestors 'none'"
}

// securePage sets browser mode's protective headers on every response of
// the page and its assets.
func securePage(h http.Handler, policy string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", policy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}
