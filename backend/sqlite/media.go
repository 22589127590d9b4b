package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"switchboard/backend"
)

var _ backend.MediaService = (*DB)(nil)

const mediaColumns = `id, conversation_id, message_id, channel, instance, name, type, size, hash, state, error, source,
	attempts, uploaded_by, created_at`

func scanMedia(s interface{ Scan(...any) error }) (*backend.MediaFile, error) {
	var f backend.MediaFile
	var created string
	if err := s.Scan(&f.ID, &f.ConversationID, &f.MessageID, &f.Channel, &f.Instance, &f.Name, &f.Type, &f.Size, &f.Hash,
		&f.State, &f.Error, &f.Source, &f.Attempts, &f.UploadedBy, &created); err != nil {
		return nil, err
	}
	f.CreatedAt = parseTime(created)
	return &f, nil
}

func findMedia(ctx context.Context, q queryer, id string) (*backend.MediaFile, error) {
	f, err := scanMedia(q.QueryRowContext(ctx, `SELECT `+mediaColumns+` FROM media_files WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "The file does not exist.")
	} else if err != nil {
		return nil, fmt.Errorf("find media: %w", err)
	}
	return f, nil
}

func insertMedia(ctx context.Context, tx *Tx, f *backend.MediaFile, nextAttempt time.Time) error {
	f.CreatedAt = tx.Now()
	_, err := tx.ExecContext(ctx, `INSERT INTO media_files (`+mediaColumns+`, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.ConversationID, f.MessageID, f.Channel, f.Instance, f.Name, f.Type, f.Size, f.Hash, f.State, f.Error, f.Source,
		f.Attempts, f.UploadedBy, formatTime(f.CreatedAt), formatTime(nextAttempt))
	if err != nil {
		return fmt.Errorf("keep media: %w", err)
	}
	return nil
}

// putBlob stores data once per content and returns its hash.
func putBlob(ctx context.Context, tx *Tx, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO media_blobs (hash, size, data, created_at) VALUES (?, ?, ?, ?)`,
		hash, len(data), data, formatTime(tx.Now())); err != nil {
		return "", fmt.Errorf("keep media bytes: %w", err)
	}
	return hash, nil
}

// dropBlobs deletes the stored bytes of hashes no file or upload uses
// any more.
func dropBlobs(ctx context.Context, tx *Tx, hashes []string) error {
	for _, h := range hashes {
		if h == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM media_blobs WHERE hash = ?
			AND NOT EXISTS (SELECT 1 FROM media_files WHERE hash = ?) AND NOT EXISTS (SELECT 1 FROM webchat_uploads WHERE hash = ?)`,
			h, h, h); err != nil {
			return fmt.Errorf("drop media bytes: %w", err)
		}
	}
	return nil
}

// sniffType returns the declared type unless it is missing or vague
// (octet-stream, or only "image"/"document" as some platforms say), in
// which case the bytes decide.
func sniffType(declared string, data []byte) string {
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

// keepInboundMedia makes the engine the keeper of an inbound message's
// files: bytes that came inside the message are stored at once, files the
// platform holds are recorded to fetch, and a web chat visitor's uploads
// become files of the conversation (still read by the visitor at their
// widget address). Kept files are named by /media/{id}.
func keepInboundMedia(ctx context.Context, tx *Tx, conv *backend.Conversation, messageID string, atts []backend.Attachment) ([]backend.Attachment, error) {
	out := make([]backend.Attachment, 0, len(atts))
	for _, a := range atts {
		f := &backend.MediaFile{ID: backend.NewID("me"), ConversationID: conv.ID, MessageID: messageID, Channel: conv.Channel,
			Instance: conv.Instance, Name: a.Name, Type: a.Type, Size: a.Size}
		data := a.Data
		if data == nil {
			if typ, d, ok := backend.ParseDataURL(a.URL); ok {
				data = d
				if f.Type == "" {
					f.Type = typ
				}
			}
		}
		switch {
		case data != nil:
			hash, err := putBlob(ctx, tx, data)
			if err != nil {
				return nil, err
			}
			f.Hash, f.Size, f.Type, f.State = hash, int64(len(data)), sniffType(f.Type, data), backend.MediaReady
			if err := insertMedia(ctx, tx, f, time.Time{}); err != nil {
				return nil, err
			}
			a = backend.Attachment{URL: backend.MediaPath + f.ID, Type: f.Type, Name: f.Name, Size: f.Size}
		case a.Ref != "":
			f.State, f.Source = backend.MediaFetching, a.Ref
			if err := insertMedia(ctx, tx, f, tx.Now()); err != nil {
				return nil, err
			}
			a = backend.Attachment{URL: backend.MediaPath + f.ID, Type: a.Type, Name: a.Name, Size: a.Size, State: backend.MediaFetching}
		case conv.Channel == "webchat":
			if err := keepWebchatUpload(ctx, tx, conv, messageID, a.URL); err != nil {
				return nil, err
			}
		}
		a.Data, a.Ref = nil, ""
		out = append(out, a)
	}
	return out, nil
}

// keepWebchatUpload records a visitor's upload (/widget/{instance}/files/{id})
// as a file of the conversation under the upload's own id, sharing its bytes.
func keepWebchatUpload(ctx context.Context, tx *Tx, conv *backend.Conversation, messageID, url string) error {
	parts := strings.Split(strings.TrimPrefix(url, "/"), "/")
	if !backend.IsEngineMediaPath(url) || len(parts) != 4 || parts[0] != "widget" || parts[1] != conv.Instance {
		return nil
	}
	id := parts[3]
	var hash, name, typ string
	var data []byte
	err := tx.QueryRowContext(ctx, `SELECT hash, name, type, data FROM webchat_uploads WHERE instance = ? AND id = ?`, conv.Instance, id).
		Scan(&hash, &name, &typ, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("keep web chat upload: %w", err)
	}
	if hash == "" { // an upload from before files were stored by content
		if hash, err = putBlob(ctx, tx, data); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webchat_uploads SET hash = ?, data = x'' WHERE instance = ? AND id = ?`, hash, conv.Instance, id); err != nil {
			return fmt.Errorf("keep web chat upload: %w", err)
		}
	}
	var size int64
	if err := tx.QueryRowContext(ctx, `SELECT size FROM media_blobs WHERE hash = ?`, hash).Scan(&size); err != nil {
		return fmt.Errorf("keep web chat upload: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO media_files (`+mediaColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', 0, '', ?)`,
		id, conv.ID, messageID, conv.Channel, conv.Instance, name, typ, size, hash, backend.MediaReady, formatTime(tx.Now()))
	if err != nil {
		return fmt.Errorf("keep web chat upload: %w", err)
	}
	return nil
}

// attachOutboundMedia checks the kept files a reply carries: each must be a
// ready file of this conversation, and it becomes the message's. Their
// name, type and size are the store's.
func attachOutboundMedia(ctx context.Context, tx *Tx, conv *backend.Conversation, messageID string, atts []backend.Attachment) ([]backend.Attachment, error) {
	out := make([]backend.Attachment, 0, len(atts))
	for i, a := range atts {
		a.Data, a.Ref, a.State, a.Error = nil, "", "", ""
		id, ok := backend.MediaIDFromPath(a.URL)
		if !ok {
			out = append(out, a)
			continue
		}
		f, err := findMedia(ctx, tx, id)
		if backend.ErrorCode(err) == backend.ENotFound || err == nil && f.ConversationID != conv.ID {
			return nil, backend.Errorf(backend.EInvalid, "Attachment %d is not a file of this conversation; upload it to the conversation first.", i+1)
		} else if err != nil {
			return nil, err
		}
		if f.State != backend.MediaReady {
			return nil, backend.Errorf(backend.EInvalid, "Attachment %d (%s) cannot be sent: %s", i+1, f.Name, mediaStateText(f))
		}
		if f.MessageID == "" {
			if _, err := tx.ExecContext(ctx, `UPDATE media_files SET message_id = ? WHERE id = ? AND message_id = ''`, messageID, id); err != nil {
				return nil, fmt.Errorf("attach media: %w", err)
			}
		}
		out = append(out, backend.Attachment{URL: a.URL, Type: f.Type, Name: f.Name, Size: f.Size})
	}
	return out, nil
}

func mediaStateText(f *backend.MediaFile) string {
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

// MediaFile implements backend.MediaService.
func (db *DB) MediaFile(ctx context.Context, id string) (*backend.MediaFile, error) {
	return findMedia(ctx, db.r, id)
}

// MediaContent implements backend.MediaService.
func (db *DB) MediaContent(ctx context.Context, id string) ([]byte, error) {
	f, err := findMedia(ctx, db.r, id)
	if err != nil {
		return nil, err
	}
	if f.State != backend.MediaReady {
		return nil, backend.Errorf(backend.EUnavailable, "The file %s is not available: %s", f.Name, mediaStateText(f))
	}
	var data []byte
	if err := db.r.QueryRowContext(ctx, `SELECT data FROM media_blobs WHERE hash = ?`, f.Hash).Scan(&data); errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "The file's content is missing.")
	} else if err != nil {
		return nil, fmt.Errorf("media content: %w", err)
	}
	return data, nil
}

// PutMedia implements backend.MediaService.
func (db *DB) PutMedia(ctx context.Context, f *backend.MediaFile, data []byte) error {
	if len(data) == 0 {
		return backend.Errorf(backend.EInvalid, "The file is empty.")
	}
	return db.update(ctx, func(tx *Tx) error {
		conv, err := findConversation(ctx, tx, f.ConversationID)
		if err != nil {
			return err
		}
		hash, err := putBlob(ctx, tx, data)
		if err != nil {
			return err
		}
		f.ID, f.Channel, f.Instance, f.Hash, f.Size = backend.NewID("me"), conv.Channel, conv.Instance, hash, int64(len(data))
		f.Type, f.State, f.MessageID, f.Error, f.Source, f.Attempts = sniffType(f.Type, data), backend.MediaReady, "", "", "", 0
		return insertMedia(ctx, tx, f, time.Time{})
	})
}

// ClaimMediaFetches implements backend.MediaService.
func (db *DB) ClaimMediaFetches(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*backend.MediaFile, time.Time, error) {
	if limit <= 0 {
		limit = 20
	}
	var out []*backend.MediaFile
	var next time.Time
	err := db.update(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+mediaColumns+` FROM media_files WHERE state = 'fetching' AND next_attempt_at <= ?
			ORDER BY next_attempt_at LIMIT ?`, formatTime(now), limit)
		if err != nil {
			return fmt.Errorf("claim media fetches: %w", err)
		}
		for rows.Next() {
			f, err := scanMedia(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, f := range out {
			f.Attempts++
			if _, err := tx.ExecContext(ctx, `UPDATE media_files SET attempts = ?, next_attempt_at = ? WHERE id = ?`,
				f.Attempts, formatTime(leaseUntil), f.ID); err != nil {
				return fmt.Errorf("claim media fetches: %w", err)
			}
		}
		var at sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM media_files WHERE state = 'fetching'`).Scan(&at); err != nil {
			return fmt.Errorf("claim media fetches: %w", err)
		}
		next = parseTime(at.String)
		return nil
	})
	return out, next, err
}

// SettleMediaFetch implements backend.MediaService.
func (db *DB) SettleMediaFetch(ctx context.Context, id string, res *backend.MediaFetch) error {
	return db.update(ctx, func(tx *Tx) error {
		f, err := findMedia(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case res.Data != nil:
			if f.Hash, err = putBlob(ctx, tx, res.Data); err != nil {
				return err
			}
			f.Type = sniffType(orString(res.Type, f.Type), res.Data)
			f.Name, f.Size, f.State, f.Error = orString(f.Name, res.Name), int64(len(res.Data)), backend.MediaReady, ""
		case !res.RetryAt.IsZero():
			_, err := tx.ExecContext(ctx, `UPDATE media_files SET error = ?, next_attempt_at = ? WHERE id = ?`, res.Reason, formatTime(res.RetryAt), id)
			return err
		default:
			f.State, f.Error = backend.MediaFailed, res.Reason
		}
		// The platform's reference (a signed URL, a file id) is not kept
		// once the file is settled.
		if _, err := tx.ExecContext(ctx, `UPDATE media_files SET hash = ?, type = ?, name = ?, size = ?, state = ?, error = ?, source = '',
			next_attempt_at = '' WHERE id = ?`, f.Hash, f.Type, f.Name, f.Size, f.State, f.Error, id); err != nil {
			return fmt.Errorf("settle media fetch: %w", err)
		}
		return updateAttachment(ctx, tx, f)
	})
}

func orString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// updateAttachment brings the attachment that names f on f's message in
// line with f, and tells the feed.
func updateAttachment(ctx context.Context, tx *Tx, f *backend.MediaFile) error {
	if f.MessageID == "" {
		return nil
	}
	m, err := findMessage(ctx, tx, `id = ?`, f.MessageID)
	if backend.ErrorCode(err) == backend.ENotFound {
		return nil
	} else if err != nil {
		return err
	}
	changed := false
	for i, a := range m.Attachments {
		if a.URL != backend.MediaPath+f.ID {
			continue
		}
		a.Type, a.Name, a.Size, a.State, a.Error = f.Type, f.Name, f.Size, "", ""
		if f.State != backend.MediaReady {
			a.State, a.Error = f.State, f.Error
		}
		m.Attachments[i], changed = a, true
	}
	if !changed {
		return nil
	}
	b, err := json.Marshal(m.Attachments)
	if err != nil {
		return err
	}
	m.UpdatedAt = tx.Now()
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET attachments = ?, updated_at = ? WHERE id = ?`, string(b), formatTime(m.UpdatedAt), m.ID); err != nil {
		return fmt.Errorf("update attachment: %w", err)
	}
	return tx.AppendEvent(ctx, backend.EventMessageUpserted, m.ID, m)
}
