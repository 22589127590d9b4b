package backend

import (
	"encoding/base64"
	"mime"
	"net/url"
	"strings"
)

// MediaPath starts the path of a file the engine keeps from an inbound
// message (/media/{id}); the web chat's uploads live under
// /widget/{instance}/files/{id}. An attachment may name either instead of an
// absolute URL.
const MediaPath = "/media/"

// CheckAttachmentURL accepts an absolute https: or http: URL with a host,
// or a path to a file the engine serves (see IsEngineMediaPath); it
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
// serves, /media/{id} or /widget/{instance}/files/{id}, with no scheme,
// host, query, backslash or dot segments.
func IsEngineMediaPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#\\ \t\r\n%") {
		return false
	}
	parts := strings.Split(p[1:], "/")
	for _, s := range parts {
		if s == "" || s == "." || s == ".." {
			return false
		}
	}
	return (len(parts) == 2 && parts[0] == "media") || (len(parts) == 4 && parts[0] == "widget" && parts[2] == "files")
}

// ParseDataURL decodes a base64 data: URL (how a connector hands over a
// file that came inside the message, such as an email part) into its media
// type and bytes.
func ParseDataURL(s string) (typ string, data []byte, ok bool) {
	rest, found := strings.CutPrefix(s, "data:")
	if !found {
		return "", nil, false
	}
	meta, payload, found := strings.Cut(rest, ",")
	meta, isBase64 := strings.CutSuffix(meta, ";base64")
	if !found || !isBase64 {
		return "", nil, false
	}
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return "", nil, false
	}
	typ = "application/octet-stream"
	if mt, _, err := mime.ParseMediaType(meta); err == nil && meta != "" {
		typ = mt
	}
	return typ, data, true
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

// FileHeaders are the HTTP response headers a customer's or agent's file is
// served with: never rendered as a page of the engine's origin (a
// sandboxing policy, no type sniffing), shown inline only when it is a
// raster image, cached privately.
func FileHeaders(name, typ string) map[string]string {
	disp := "attachment"
	if strings.HasPrefix(typ, "image/") && typ != "image/svg+xml" {
		disp = "inline"
	}
	if name == "" {
		name = "file"
	}
	return map[string]string{
		"Content-Type":                 typ,
		"Content-Security-Policy":      "sandbox; default-src 'none'",
		"X-Content-Type-Options":       "nosniff",
		"Cross-Origin-Resource-Policy": "cross-origin",
		"Content-Disposition":          mime.FormatMediaType(disp, map[string]string{"filename": name}),
		"Cache-Control":                "private, max-age=86400",
	}
}
