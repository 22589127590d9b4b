package backend

import (
	"context"
	"strings"
	"time"
)

// States of a kept file.
const (
	// MediaReady: the bytes are stored and can be served.
	MediaReady = "ready"
	// MediaFetching: the file is still to be fetched from its platform.
	MediaFetching = "fetching"
	// MediaFailed: the platform no longer has it, or it is too large to
	// keep; Error says which.
	MediaFailed = "failed"
)

// MediaFile is a file the engine keeps for a conversation: a customer's
// attachment fetched from its platform, a part of an inbound email, a web
// chat visitor's upload or an agent's upload for a reply. Its bytes are
// stored once per content (Hash, the SHA-256); who may read it is whoever
// may read its conversation.
type MediaFile struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversationId"`
	// MessageID is the message that carries the file ("" for an agent's
	// upload not sent yet).
	MessageID string `json:"messageId,omitempty"`
	Channel   string `json:"channel"`
	Instance  string `json:"instance"`
	Name      string `json:"name"`
	// Type is the media type sniffed from the bytes when the platform's
	// claim is vague or wrong.
	Type  string `json:"type"`
	Size  int64  `json:"size"`
	Hash  string `json:"hash,omitempty"`
	State string `json:"state"`
	Error string `json:"error,omitempty"`
	// Source is the platform's reference the file is fetched with (see
	// Attachment.Ref); it is never shown.
	Source string `json:"-"`
	// Attempts counts fetches so far.
	Attempts int `json:"attempts,omitempty"`
	// UploadedBy is the user who uploaded the file for a reply.
	UploadedBy string    `json:"uploadedBy,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
}

// MediaFetch is the outcome of one attempt to fetch a file from its
// platform: the bytes, or why not and when to try again.
type MediaFetch struct {
	Data []byte
	// Type and Name, when set, replace what the platform's message said.
	Type, Name string
	// Reason says why the file was not fetched; with RetryAt zero the file
	// has failed for good.
	Reason  string
	RetryAt time.Time
}

// MediaService keeps files for conversations.
type MediaService interface {
	// MediaFile returns a kept file's description. Returns ENotFound.
	MediaFile(ctx context.Context, id string) (*MediaFile, error)
	// MediaContent returns the bytes of a ready file. Returns ENotFound,
	// and EUnavailable for a file that is being fetched or failed (with a
	// sentence saying which).
	MediaContent(ctx context.Context, id string) ([]byte, error)
	// PutMedia keeps an agent's upload for a reply in f's conversation;
	// ID, Hash, State and CreatedAt are set. Returns ENotFound for an
	// unknown conversation and EInvalid for an empty file.
	PutMedia(ctx context.Context, f *MediaFile, data []byte) error
	// ClaimMediaFetches takes up to limit files due to be fetched at now,
	// each until leaseUntil (so no other fetcher takes it meanwhile), and
	// returns them with the time the next waiting one is due (zero when
	// none waits).
	ClaimMediaFetches(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*MediaFile, time.Time, error)
	// SettleMediaFetch records one fetch's outcome: the bytes are kept and
	// the file is ready, or it waits until RetryAt, or it fails. The
	// attachment on its message follows (a message.upserted event).
	// Returns ENotFound.
	SettleMediaFetch(ctx context.Context, id string, f *MediaFetch) error
}

// MediaIDFromPath returns the id in an engine file path (/media/{id}).
func MediaIDFromPath(p string) (string, bool) {
	id, ok := strings.CutPrefix(p, MediaPath)
	if !ok || !IsEngineMediaPath(p) {
		return "", false
	}
	return id, true
}
