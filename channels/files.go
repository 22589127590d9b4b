package channels

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/textproto"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"switchboard/backend"
)

// MediaLimits say which files a platform carries in one message.
type MediaLimits struct {
	// Kinds are the files it takes, each with its own size limit; the
	// first kind whose types match a file applies. Empty: it sends no
	// files (a file becomes a refused reply).
	Kinds []MediaKind
	// MaxFiles is how many files one message may carry (0: one).
	MaxFiles int
	// NeedsLink is true when the platform fetches files from a public
	// address instead of taking an upload (Twilio, LINE, Instagram): the
	// engine needs its public URL to send them.
	NeedsLink bool
}

// MediaKind is a group of media types with a size limit.
type MediaKind struct {
	// Types are media types ("image/png"), families ("image/*") or "*".
	Types    []string
	MaxBytes int64
	// Name says the kind for people ("images", "documents").
	Name string
}

func (k MediaKind) matches(typ string) bool {
	typ = strings.ToLower(typ)
	for _, t := range k.Types {
		if t == "*" || t == typ || strings.HasSuffix(t, "/*") && strings.HasPrefix(typ, strings.TrimSuffix(t, "*")) {
			return true
		}
	}
	return false
}

// Check returns EInvalid, with a sentence naming the file and what the
// platform takes, for files the platform cannot carry.
func (l MediaLimits) Check(title string, files []backend.Attachment) error {
	if len(files) == 0 {
		return nil
	}
	if len(l.Kinds) == 0 {
		return backend.Errorf(backend.EInvalid, "%s cannot carry files; send a link or use another channel.", title)
	}
	if n := max(l.MaxFiles, 1); len(files) > n {
		return backend.Errorf(backend.EInvalid, "%s carries at most %d file(s) per message; send them in separate replies.", title, n)
	}
	for _, f := range files {
		kind, ok := l.kindOf(f.Type)
		if !ok {
			return backend.Errorf(backend.EInvalid, "%s cannot carry %s (%s); it takes %s.", title, f.Name, f.Type, l.takes())
		}
		if f.Size > kind.MaxBytes {
			return backend.Errorf(backend.EInvalid, "%s (%s) is too large for %s, which takes %s up to %s.", f.Name, sizeText(f.Size), title, kind.Name, sizeText(kind.MaxBytes))
		}
	}
	return nil
}

func (l MediaLimits) kindOf(typ string) (MediaKind, bool) {
	for _, k := range l.Kinds {
		if k.matches(typ) {
			return k, true
		}
	}
	return MediaKind{}, false
}

func (l MediaLimits) takes() string {
	var parts []string
	for _, k := range l.Kinds {
		parts = append(parts, k.Name+" up to "+sizeText(k.MaxBytes))
	}
	return strings.Join(parts, ", ")
}

// File is a kept file (an attachment named /media/{id}) on its way out.
type File struct {
	backend.Attachment
	// Data is the file's content.
	Data []byte
	// Link is a public address of the file that expires after LinkTTL, for
	// platforms that fetch files themselves (MediaLimits.NeedsLink).
	Link string
}

// LinkTTL is how long a public file link works: platforms such as LINE
// fetch the file again when the customer opens it.
const LinkTTL = 30 * 24 * time.Hour

// linkKeyName names the store's server key that signs public file links.
const linkKeyName = "media-links"

// ServerKeys is the store's named server keys, shared by every engine on
// the store (the SQLite store implements it).
type ServerKeys interface {
	// WebchatKey returns the named 32-byte key, creating it on first use.
	WebchatKey(ctx context.Context, name string) ([]byte, error)
}

// CheckReply reports whether a reply with these attachments and Cc can
// leave on the conversation's channel: EInvalid with a sentence when the
// platform cannot carry a file (type, size, count) or copy people.
func (h *Hub) CheckReply(ctx context.Context, conv *backend.Conversation, atts []backend.Attachment, cc []string) error {
	info, ok := Lookup(conv.Channel)
	if !ok {
		return nil
	}
	if len(cc) > 0 && !info.Cc {
		return backend.Errorf(backend.EInvalid, "%s cannot copy anyone; Cc is for email.", info.Title.En)
	}
	for _, a := range cc {
		if addr, err := mail.ParseAddress(a); err != nil || addr.Address != a {
			return backend.Errorf(backend.EInvalid, "%q is not an email address to copy.", a)
		}
	}
	var kept []backend.Attachment
	for _, a := range atts {
		id, ok := backend.MediaIDFromPath(a.URL)
		if !ok {
			continue
		}
		f, err := h.store.MediaFile(ctx, id)
		if err != nil {
			return err
		}
		kept = append(kept, backend.Attachment{URL: a.URL, Name: f.Name, Type: f.Type, Size: f.Size})
	}
	return info.Media.Check(info.Title.En, kept)
}

// outboundFiles loads the kept files of a reply for its connector, with
// public links when the platform fetches them. Errors are permanent
// SendErrors with a sentence.
func (h *Hub) outboundFiles(ctx context.Context, inst *instance, atts []backend.Attachment) ([]File, error) {
	var files []File
	for _, a := range atts {
		id, ok := backend.MediaIDFromPath(a.URL)
		if !ok {
			continue
		}
		data, err := h.store.MediaContent(ctx, id)
		if code := backend.ErrorCode(err); code == backend.ENotFound || code == backend.EUnavailable {
			return nil, Permanent(backend.ErrorMessage(err))
		} else if err != nil {
			return nil, err
		}
		f := File{Attachment: a, Data: data}
		f.Size = int64(len(data))
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, nil
	}
	kept := make([]backend.Attachment, len(files))
	for i, f := range files {
		kept[i] = f.Attachment
	}
	if err := inst.info.Media.Check(inst.info.Title.En, kept); err != nil {
		return nil, Permanent(backend.ErrorMessage(err))
	}
	if inst.info.Media.NeedsLink {
		for i := range files {
			link, err := h.Link(ctx, files[i].Attachment)
			if err != nil {
				return nil, Permanent(inst.info.Title.En + " fetches files from the engine: " + backend.ErrorMessage(err))
			}
			files[i].Link = link
		}
	}
	return files, nil
}

// Link returns a public address of a kept file that works for LinkTTL,
// on the engine's public URL. Returns EUnavailable without a public URL
// or a server key.
func (h *Hub) Link(ctx context.Context, a backend.Attachment) (string, error) {
	id, ok := backend.MediaIDFromPath(a.URL)
	if !ok {
		return "", backend.Errorf(backend.EInvalid, "Only the engine's own files have public links.")
	}
	if h.opts.PublicURL == "" {
		return "", backend.Errorf(backend.EUnavailable, "the engine has no public address; start it with --public-url so the platform can fetch files.")
	}
	key, err := h.linkKey(ctx)
	if err != nil {
		return "", err
	}
	token := id + "." + strconv.FormatInt(h.clock.Now().Add(LinkTTL).Unix(), 36)
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < ' ' {
			return '_'
		}
		return r
	}, a.Name)
	if name == "" {
		name = "file"
	}
	return h.opts.PublicURL + LinkPath + token + "." + signLink(key, token) + "/" + url.PathEscape(name), nil
}

// LinkPath starts the path of public file links.
const LinkPath = "/shared/"

func (h *Hub) linkKey(ctx context.Context) ([]byte, error) {
	keys, ok := h.store.(ServerKeys)
	if !ok {
		return nil, backend.Errorf(backend.EUnavailable, "the store keeps no key to sign file links.")
	}
	return keys.WebchatKey(ctx, linkKeyName)
}

func signLink(key []byte, token string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
}

// ServeLink serves GET /shared/{id}.{expiry}.{signature}/{name}: a kept
// file a platform fetches to deliver it (Twilio MMS, LINE images,
// Instagram). The signature and expiry are the capability; anything else
// is 404. Mount it at LinkPath.
func (h *Hub) ServeLink(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeStatus(w, http.StatusMethodNotAllowed, backend.EInvalid, "Files are read with GET.")
		return
	}
	notFound := backend.Errorf(backend.ENotFound, "There is no such file, or its link has expired.")
	rest, _ := strings.CutPrefix(r.URL.Path, LinkPath)
	token, _, _ := strings.Cut(rest, "/")
	parts := strings.Split(token, ".")
	if len(parts) != 3 || path.Clean("/"+rest) != "/"+rest {
		writeError(w, notFound)
		return
	}
	key, err := h.linkKey(r.Context())
	if err != nil {
		writeError(w, notFound)
		return
	}
	signed := parts[0] + "." + parts[1]
	exp, err := strconv.ParseInt(parts[1], 36, 64)
	if !hmac.Equal([]byte(signLink(key, signed)), []byte(parts[2])) || err != nil || h.clock.Now().Unix() > exp {
		writeError(w, notFound)
		return
	}
	f, err := h.store.MediaFile(r.Context(), parts[0])
	if err != nil {
		writeError(w, notFound)
		return
	}
	data, err := h.store.MediaContent(r.Context(), f.ID)
	if err != nil {
		writeError(w, notFound)
		return
	}
	ServeFile(w, f.Name, f.Type, data)
}

// FilePart is a file in a multipart/form-data body, under a field name.
type FilePart struct {
	Field string
	File  File
}

// Multipart builds a multipart/form-data body of fields (in order, name
// then value) and files, and returns it with its Content-Type. Platforms'
// upload APIs (Telegram, Discord, WhatsApp, Messenger) take files this way.
func Multipart(fields []string, files ...FilePart) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		w.WriteField(fields[i], fields[i+1])
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": f.Field, "filename": f.File.Name}))
		h.Set("Content-Type", f.File.Type)
		part, _ := w.CreatePart(h)
		part.Write(f.File.Data)
	}
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}
