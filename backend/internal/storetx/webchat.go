package storetx

import (
	"context"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

// WebchatTx is the steps that keep a web chat visitor's uploads.
type WebchatTx interface {
	MediaTx
	// UploadTotals returns the bytes the visitor (subject) and the whole
	// instance uploaded since then.
	UploadTotals(ctx context.Context, instance, subject string, since time.Time) (visitor, total int64, err error)
	// InsertUpload stores an upload whose bytes are stored under hash.
	InsertUpload(ctx context.Context, id, instance, subject, name, typ string, size int64, hash string) error
	// AttachUpload marks the visitor's upload as carried by a message and
	// returns its name, type and size, or nil when the instance has no
	// such upload of the visitor.
	AttachUpload(ctx context.Context, instance, id, subject string) (*backend.Attachment, error)
	// DeleteOrphanUploads deletes the uploads no message carries that were
	// made before cutoff, and returns their hashes.
	DeleteOrphanUploads(ctx context.Context, cutoff time.Time) ([]string, error)
	// DropBlobs deletes the stored bytes of hashes no file or upload uses
	// any more.
	DropBlobs(ctx context.Context, hashes []string) error
}

// PutWebchatUpload stores a file a visitor uploaded to a widget instance,
// unless it would take the visitor or the instance over quota (ETooLarge,
// with a sentence saying which). Uploads to one instance are counted one
// at a time.
func PutWebchatUpload(ctx context.Context, tx WebchatTx, id, instance, subject, name, typ string, data []byte, q backend.UploadQuota) error {
	if _, err := tx.Lock(ctx, "webchat-uploads:"+instance); err != nil {
		return err
	}
	visitor, total, err := tx.UploadTotals(ctx, instance, subject, q.Since)
	if err != nil {
		return err
	}
	size := int64(len(data))
	if err := storekit.CheckUploadQuota(q, visitor, total, size); err != nil {
		return err
	}
	hash, err := PutBlob(ctx, tx, data)
	if err != nil {
		return err
	}
	return tx.InsertUpload(ctx, id, instance, subject, name, typ, size, hash)
}

// AttachWebchatUploads marks a visitor's uploads as carried by a message,
// so they are kept, and returns them as attachments in the order given.
// An id that is not the visitor's upload on this instance (or was deleted
// as never attached) is EInvalid.
func AttachWebchatUploads(ctx context.Context, tx WebchatTx, instance, subject string, ids []string, urlOf func(id string) string) ([]backend.Attachment, error) {
	var out []backend.Attachment
	for _, id := range ids {
		a, err := tx.AttachUpload(ctx, instance, id, subject)
		if err != nil {
			return out, err
		} else if a == nil {
			return out, backend.Errorf(backend.EInvalid, "An attached file was not found.")
		}
		a.URL = urlOf(id)
		out = append(out, *a)
	}
	return out, nil
}

// DeleteOrphanWebchatUploads deletes the uploads no message carries that
// were made before cutoff, and the bytes nothing else uses, and returns
// how many uploads it deleted.
func DeleteOrphanWebchatUploads(ctx context.Context, tx WebchatTx, cutoff time.Time) (int, error) {
	hashes, err := tx.DeleteOrphanUploads(ctx, cutoff)
	if err != nil {
		return 0, err
	}
	return len(hashes), tx.DropBlobs(ctx, hashes)
}
