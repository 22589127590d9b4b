package backend

import (
	"net/url"
	"strings"
)

// MediaPathPrefix starts the paths of files the engine itself serves (the
// web chat's uploads live under /widget/{instance}/files/{id}); an
// attachment may name one instead of an absolute URL.
const MediaPathPrefix = "/widget/"

// CheckAttachmentURL accepts an absolute https: or http: URL with a host,
// or a path to a file the engine serves (MediaPathPrefix…/files/…); it
// returns EInvalid for anything else (javascript:, data:, file:, relative
// or protocol-relative URLs…), which must never become a link or an image.
// An empty URL (a file the platform keeps, such as an email part) is fine.
func CheckAttachmentURL(raw string) error {
	if raw == "" {
		return nil
	}
	if IsEngineMediaPath(raw) {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		strings.ContainsAny(raw, " \t\r\n\\") {
		return Errorf(EInvalid, "An attachment URL must start with https:// or http:// and name a host.")
	}
	return nil
}

// IsEngineMediaPath reports whether p is a plain path to a file the engine
// serves: /widget/{instance}/files/{id}, with no scheme, host, query,
// backslash or dot segments.
func IsEngineMediaPath(p string) bool {
	rest, ok := strings.CutPrefix(p, MediaPathPrefix)
	if !ok || strings.ContainsAny(p, "?#\\ \t\r\n%") {
		return false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[1] != "files" {
		return false
	}
	for _, s := range parts {
		if s == "" || s == "." || s == ".." {
			return false
		}
	}
	return true
}

// SafeAttachments returns atts with every URL that CheckAttachmentURL
// refuses removed (the attachment keeps its name, type and size), and how
// many were removed. Inbound messages are neutralized this way rather than
// refused, so a customer's message is never lost over a bad link.
func SafeAttachments(atts []Attachment) ([]Attachment, int) {
	removed := 0
	for i := range atts {
		if CheckAttachmentURL(atts[i].URL) != nil {
			if removed == 0 {
				atts = append([]Attachment(nil), atts...)
			}
			atts[i].URL = ""
			removed++
		}
	}
	return atts, removed
}
