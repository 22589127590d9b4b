package channels

import (
	"net/http"
	"strings"
)

// RequestOrigin rebuilds the scheme://host a client reached, trusting the
// X-Forwarded-Proto and X-Forwarded-Host a reverse proxy sets.
func RequestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		scheme, _, _ = strings.Cut(p, ",")
	}
	host := r.Host
	if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
		host, _, _ = strings.Cut(fh, ",")
	}
	return strings.TrimSpace(scheme) + "://" + strings.TrimSpace(host)
}
