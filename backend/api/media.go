package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"switchboard/backend"
)

// DefaultMaxUpload is the largest file an agent may upload for a reply.
const DefaultMaxUpload = 25 << 20

// MediaRule allows whoever may read the conversation a kept file belongs
// to (supervisors and admins: every file); to anyone else the file does
// not exist.
func MediaRule(param string) Access {
	return Access{Name: "media of a readable conversation", Role: backend.RoleAgent, Check: func(s *Server, r *http.Request, u *backend.User) error {
		f, err := s.Store.MediaFile(r.Context(), r.PathValue(param))
		if err != nil {
			return err
		}
		return s.policy.Media(r.Context(), u, f)
	}}
}

// ReplyChecker says whether a reply can leave on its conversation's
// channel; the channel hub implements it.
type ReplyChecker interface {
	// CheckReply returns EInvalid, with a sentence, for files the
	// platform cannot carry or a Cc it cannot send.
	CheckReply(ctx context.Context, conv *backend.Conversation, atts []backend.Attachment, cc []string) error
}

// SetReplyChecker makes replies be checked against their channel's limits
// before they are stored.
func (s *Server) SetReplyChecker(c ReplyChecker) { s.replies = c }

// mediaRoutes registers the kept files' routes.
func (s *Server) mediaRoutes() {
	s.route("GET /media/{id}", MediaRule("id"), s.handleMedia)
	s.route("POST /api/conversations/{id}/files", ConversationRule(Act, "id"), s.handleUpload)
}

// handleMedia serves a kept file as a download (raster images inline)
// under a sandboxing policy. A file still being fetched from its platform
// is 503 with Retry-After; one that failed is 503 saying why.
func (s *Server) handleMedia(w http.ResponseWriter, r *http.Request) {
	f, err := s.Store.MediaFile(r.Context(), r.PathValue("id"))
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	data, err := s.Store.MediaContent(r.Context(), f.ID)
	if err != nil {
		if f.State == backend.MediaFetching {
			w.Header().Set("Retry-After", "2")
		}
		Error(w, r, s.Logger, err)
		return
	}
	for k, v := range backend.FileHeaders(f.Name, f.Type) {
		w.Header().Set(k, v)
	}
	if f.Hash != "" {
		w.Header().Set("ETag", `"`+f.Hash+`"`)
	}
	http.ServeContent(w, r, "", f.CreatedAt, bytes.NewReader(data))
}

// handleUpload keeps a file an agent attaches to a reply (multipart field
// "file") and answers 201 with the attachment to send.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	limit := s.MaxUpload
	if limit <= 0 {
		limit = DefaultMaxUpload
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+64<<10)
	file, hdr, err := r.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			Error(w, r, s.Logger, backend.Errorf(backend.ETooLarge, "The file is larger than %d MiB.", limit>>20))
			return
		}
		Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "Send the file as the multipart form field \"file\"."))
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, limit+1))
	if err != nil || int64(len(data)) > limit {
		Error(w, r, s.Logger, backend.Errorf(backend.ETooLarge, "The file is larger than %d MiB.", limit>>20))
		return
	}
	typ, _, _ := mime.ParseMediaType(hdr.Header.Get("Content-Type"))
	f := &backend.MediaFile{ConversationID: r.PathValue("id"), Name: fileName(hdr.Filename), Type: typ,
		UploadedBy: SessionFrom(r.Context()).User.ID}
	if err := s.Store.PutMedia(r.Context(), f, data); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, backend.Attachment{URL: backend.MediaPath + f.ID, Type: f.Type, Name: f.Name, Size: f.Size})
}

// fileName keeps a file name to one printable line of at most 200 bytes.
func fileName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '/' || r == '\\' {
			return -1
		}
		return r
	}, name)
	for len(name) > 200 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if strings.TrimSpace(name) == "" {
		return "file"
	}
	return strings.TrimSpace(name)
}
