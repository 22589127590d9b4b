package storekit

import (
	"net/http"
	"strings"
	"time"

	"switchboard/backend"
)

// SniffType returns the declared media type unless it is missing or vague
// (octet-stream, or only "image"/"document" as some platforms say), in
// which case the bytes decide.
func SniffType(declared string, data []byte) string {
	declared = strings.ToLower(strings.TrimSpace(declared))
	if strings.Contains(declared, "/") && declared != "application/octet-stream" && declared != "binary/octet-stream" {
		return declared
	}
	if len(data) == 0 {
		if declared == "" {
			return "application/octet-stream"
		}
		return declared
	}
	t := http.DetectContentType(data)
	if i := strings.IndexByte(t, ';'); i >= 0 && !strings.HasPrefix(t, "text/") {
		t = t[:i]
	}
	return t
}

// InboundData returns the bytes that came inside an inbound attachment
// (Data, or a data: URL) and its type, ok false when the platform holds
// the file instead.
func InboundData(a backend.Attachment) (data []byte, typ string, ok bool) {
	if a.Data != nil {
		return a.Data, a.Type, true
	}
	t, d, ok := backend.ParseDataURL(a.URL)
	if !ok {
		return nil, "", false
	}
	if a.Type != "" {
		t = a.Type
	}
	return d, t, true
}

// WebchatUploadID returns the upload id in a web chat visitor's file
// address of instance (/widget/{instance}/files/{id}).
func WebchatUploadID(url, instance string) (string, bool) {
	parts := strings.Split(strings.TrimPrefix(url, "/"), "/")
	if !backend.IsEngineMediaPath(url) || len(parts) != 4 || parts[0] != "widget" || parts[1] != instance {
		return "", false
	}
	return parts[3], true
}

// CheckReplyFile refuses a kept file a reply in conversation convID
// carries (its i-th attachment) unless it is a ready file of that
// conversation; f nil means no such file.
func CheckReplyFile(i int, f *backend.MediaFile, convID string) error {
	if f == nil || f.ConversationID != convID {
		return backend.Errorf(backend.EInvalid, "Attachment %d is not a file of this conversation; upload it to the conversation first.", i+1)
	}
	if f.State != backend.MediaReady {
		return backend.Errorf(backend.EInvalid, "Attachment %d (%s) cannot be sent: %s", i+1, f.Name, MediaStateText(f))
	}
	return nil
}

// ErrMediaUnavailable says why a kept file cannot be read yet or at all.
func ErrMediaUnavailable(f *backend.MediaFile) error {
	return backend.Errorf(backend.EUnavailable, "The file %s is not available: %s", f.Name, MediaStateText(f))
}

// MediaStateText says, as the end of a sentence, why a file is not ready.
func MediaStateText(f *backend.MediaFile) string {
	switch f.State {
	case backend.MediaFetching:
		return "it is still being fetched from the platform."
	case backend.MediaFailed:
		if f.Error != "" {
			return f.Error
		}
		return "it could not be fetched from the platform."
	}
	return "it is not available."
}

// SettleFetch applies one fetch's outcome that keeps or fails the file to
// f (the stored bytes' hash is set by the caller); retry reports that the
// file waits until res.RetryAt instead, f unchanged.
func SettleFetch(f *backend.MediaFile, res *backend.MediaFetch, hash string) (retry bool) {
	switch {
	case res.Data != nil:
		f.Hash = hash
		f.Type = SniffType(OrString(res.Type, f.Type), res.Data)
		f.Name, f.Size, f.State, f.Error = OrString(f.Name, res.Name), int64(len(res.Data)), backend.MediaReady, ""
	case !res.RetryAt.IsZero():
		return true
	default:
		f.State, f.Error = backend.MediaFailed, res.Reason
	}
	return false
}

// OrString returns a unless it is empty, else b.
func OrString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// SettleAttachments brings the attachments that name f (/media/{id}) in
// line with f, and reports whether any changed.
func SettleAttachments(atts []backend.Attachment, f *backend.MediaFile) bool {
	changed := false
	for i, a := range atts {
		if a.URL != backend.MediaPath+f.ID {
			continue
		}
		a.Type, a.Name, a.Size, a.State, a.Error = f.Type, f.Name, f.Size, "", ""
		if f.State != backend.MediaReady {
			a.State, a.Error = f.State, f.Error
		}
		atts[i], changed = a, true
	}
	return changed
}

// MediaKeeper is what a store does, inside its transaction, to keep a
// message's files (KeepInboundMedia, AttachReplyFiles).
type MediaKeeper struct {
	// PutBlob stores bytes once per content and returns their hash.
	PutBlob func(data []byte) (string, error)
	// Insert records a new file, to fetch at nextAttempt (zero: not).
	Insert func(f *backend.MediaFile, nextAttempt time.Time) error
	// KeepWebchatUpload makes the visitor's upload at url a file of the
	// message's conversation (nothing when url names none).
	KeepWebchatUpload func(url string) error
	// Find returns a kept file, locked for the transaction; ENotFound.
	Find func(id string) (*backend.MediaFile, error)
	// Attach makes an agent's upload the reply's.
	Attach func(id string) error
}

// KeepInboundMedia makes the engine the keeper of an inbound message's
// files: bytes that came inside the message are stored at once, files the
// platform holds are recorded to fetch, and a web chat visitor's uploads
// become files of the conversation (still read by the visitor at their
// widget address). Kept files are named by /media/{id}.
func KeepInboundMedia(k MediaKeeper, conv *backend.Conversation, messageID string, atts []backend.Attachment, now time.Time) ([]backend.Attachment, error) {
	out := make([]backend.Attachment, 0, len(atts))
	for _, a := range atts {
		f := &backend.MediaFile{ID: backend.NewID("me"), ConversationID: conv.ID, MessageID: messageID, Channel: conv.Channel,
			Instance: conv.Instance, Name: a.Name, Type: a.Type, Size: a.Size}
		data, typ, inside := InboundData(a)
		switch {
		case inside:
			hash, err := k.PutBlob(data)
			if err != nil {
				return nil, err
			}
			f.Hash, f.Size, f.Type, f.State = hash, int64(len(data)), SniffType(typ, data), backend.MediaReady
			if err := k.Insert(f, time.Time{}); err != nil {
				return nil, err
			}
			a = backend.Attachment{URL: backend.MediaPath + f.ID, Type: f.Type, Name: f.Name, Size: f.Size}
		case a.Ref != "":
			f.State, f.Source = backend.MediaFetching, a.Ref
			if err := k.Insert(f, now); err != nil {
				return nil, err
			}
			a = backend.Attachment{URL: backend.MediaPath + f.ID, Type: a.Type, Name: a.Name, Size: a.Size, State: backend.MediaFetching}
		case conv.Channel == "webchat":
			if err := k.KeepWebchatUpload(a.URL); err != nil {
				return nil, err
			}
		}
		a.Data, a.Ref = nil, ""
		out = append(out, a)
	}
	return out, nil
}

// AttachReplyFiles checks the kept files a reply in conversation convID
// carries: each must be a ready file of that conversation, and it becomes
// the reply's. Their name, type and size are the store's.
func AttachReplyFiles(k MediaKeeper, convID string, atts []backend.Attachment) ([]backend.Attachment, error) {
	out := make([]backend.Attachment, 0, len(atts))
	for i, a := range atts {
		a.Data, a.Ref, a.State, a.Error = nil, "", "", ""
		id, ok := backend.MediaIDFromPath(a.URL)
		if !ok {
			out = append(out, a)
			continue
		}
		f, err := k.Find(id)
		if err != nil && backend.ErrorCode(err) != backend.ENotFound {
			return nil, err
		}
		if err := CheckReplyFile(i, f, convID); err != nil {
			return nil, err
		}
		if f.MessageID == "" {
			if err := k.Attach(id); err != nil {
				return nil, err
			}
		}
		out = append(out, backend.Attachment{URL: a.URL, Type: f.Type, Name: f.Name, Size: f.Size})
	}
	return out, nil
}
