package storetx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// MediaTx is the steps that keep files: their bytes (once per content),
// their rows, and a web chat visitor's uploads.
type MediaTx interface {
	Tx
	// InsertBlob stores data under hash unless it is stored already.
	InsertBlob(ctx context.Context, hash string, data []byte) error
	// InsertMedia records a new file, to fetch at nextAttempt (zero: not).
	InsertMedia(ctx context.Context, f *backend.MediaFile, nextAttempt time.Time) error
	// MediaForUpdate returns a file, kept from other writers until the
	// commit where the store needs a lock for that, or ENotFound.
	MediaForUpdate(ctx context.Context, id string) (*backend.MediaFile, error)
	// AttachMedia makes a file nobody's yet the message's.
	AttachMedia(ctx context.Context, messageID, id string) error
	// WebchatUpload returns a visitor's upload to the instance, or nil.
	WebchatUpload(ctx context.Context, instance, id string) (*Upload, error)
	// SetUploadHash records that an upload's bytes are stored under hash
	// and drops its own copy.
	SetUploadHash(ctx context.Context, instance, id, hash string) error
	// InsertUploadMedia records a ready file of conv's message under the
	// upload's id, with the stored bytes of hash (nothing when the file is
	// there already).
	InsertUploadMedia(ctx context.Context, conv *backend.Conversation, messageID string, up *Upload) error
	// RetryMediaFetch records why a fetch failed and when to try again.
	RetryMediaFetch(ctx context.Context, id, reason string, retryAt time.Time) error
	// SettleMedia writes a settled file's bytes, type, name, size, state
	// and error, and forgets its platform reference.
	SettleMedia(ctx context.Context, f *backend.MediaFile) error
	// UpdateAttachments writes m's attachments and update time.
	UpdateAttachments(ctx context.Context, m *backend.Message) error
}

// Upload is a web chat visitor's upload as the store keeps it.
type Upload struct {
	// ID is the upload's id, Name and Type the visitor's.
	ID, Name, Type string
	// Hash names its stored bytes ("" for an upload from before files
	// were stored by content, whose bytes are Data).
	Hash string
	// Data is the bytes of an upload without a Hash.
	Data []byte
}

// PutBlob stores data once per content and returns its hash.
func PutBlob(ctx context.Context, tx MediaTx, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	return hash, tx.InsertBlob(ctx, hash, data)
}

// insertMedia records a new file, created now.
func insertMedia(ctx context.Context, tx MediaTx, f *backend.MediaFile, nextAttempt time.Time) error {
	f.CreatedAt = tx.Now()
	return tx.InsertMedia(ctx, f, nextAttempt)
}

// KeepMedia returns what keeps the files of message messageID of conv in
// tx (storekit.KeepInboundMedia, storekit.AttachReplyFiles).
func KeepMedia(ctx context.Context, tx MediaTx, conv *backend.Conversation, messageID string) storekit.MediaKeeper {
	return storekit.MediaKeeper{
		PutBlob:           func(data []byte) (string, error) { return PutBlob(ctx, tx, data) },
		Insert:            func(f *backend.MediaFile, next time.Time) error { return insertMedia(ctx, tx, f, next) },
		KeepWebchatUpload: func(url string) error { return keepWebchatUpload(ctx, tx, conv, messageID, url) },
		Find:              func(id string) (*backend.MediaFile, error) { return tx.MediaForUpdate(ctx, id) },
		Attach:            func(id string) error { return tx.AttachMedia(ctx, messageID, id) },
	}
}

// keepWebchatUpload records a visitor's upload (/widget/{instance}/files/{id})
// as a file of the conversation under the upload's own id, sharing its bytes.
func keepWebchatUpload(ctx context.Context, tx MediaTx, conv *backend.Conversation, messageID, url string) error {
	id, ok := storekit.WebchatUploadID(url, conv.Instance)
	if !ok {
		return nil
	}
	up, err := tx.WebchatUpload(ctx, conv.Instance, id)
	if up == nil || err != nil {
		return err
	}
	if up.Hash == "" { // an upload from before files were stored by content
		if up.Hash, err = PutBlob(ctx, tx, up.Data); err != nil {
			return err
		}
		if err := tx.SetUploadHash(ctx, conv.Instance, id, up.Hash); err != nil {
			return err
		}
	}
	return tx.InsertUploadMedia(ctx, conv, messageID, up)
}

// PutMedia stores an agent's upload as a ready file of its conversation
// (ENotFound when there is none); data is not empty.
func PutMedia(ctx context.Context, tx MessageTx, f *backend.MediaFile, data []byte) error {
	conv, err := tx.FindConversation(ctx, f.ConversationID)
	if err != nil {
		return err
	}
	hash, err := PutBlob(ctx, tx, data)
	if err != nil {
		return err
	}
	f.ID, f.Channel, f.Instance, f.Hash, f.Size = backend.NewID("me"), conv.Channel, conv.Instance, hash, int64(len(data))
	f.Type, f.State, f.MessageID, f.Error, f.Source, f.Attempts = storekit.SniffType(f.Type, data), backend.MediaReady, "", "", "", 0
	return insertMedia(ctx, tx, f, time.Time{})
}

// SettleMediaFetch records a fetch's outcome: a retry, or the file's
// final state, which its message's attachment then shows.
func SettleMediaFetch(ctx context.Context, tx MessageTx, id string, res *backend.MediaFetch) error {
	f, err := tx.MediaForUpdate(ctx, id)
	if err != nil {
		return err
	}
	hash := ""
	if res.Data != nil {
		if hash, err = PutBlob(ctx, tx, res.Data); err != nil {
			return err
		}
	}
	if storekit.SettleFetch(f, res, hash) {
		return tx.RetryMediaFetch(ctx, id, res.Reason, res.RetryAt)
	}
	if err := tx.SettleMedia(ctx, f); err != nil {
		return err
	}
	return updateAttachment(ctx, tx, f)
}

// updateAttachment brings the attachment that names f on f's message in
// line with f, and tells the feed.
func updateAttachment(ctx context.Context, tx MessageTx, f *backend.MediaFile) error {
	if f.MessageID == "" {
		return nil
	}
	m, err := tx.MessageForUpdate(ctx, f.MessageID)
	if backend.ErrorCode(err) == backend.ENotFound {
		return nil
	} else if err != nil {
		return err
	}
	if !storekit.SettleAttachments(m.Attachments, f) {
		return nil
	}
	m.UpdatedAt = tx.Now()
	if err := tx.UpdateAttachments(ctx, m); err != nil {
		return err
	}
	return tx.AppendEvent(ctx, backend.EventMessageUpserted, m.ID, m)
}
