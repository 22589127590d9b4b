package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
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

var _ storetx.MediaTx = steps{}

// InsertMedia implements storetx.MediaTx.
func (s steps) InsertMedia(ctx context.Context, f *backend.MediaFile, nextAttempt time.Time) error {
	_, err := s.ExecContext(ctx, `INSERT INTO media_files (`+mediaColumns+`, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.ConversationID, f.MessageID, f.Channel, f.Instance, f.Name, f.Type, f.Size, f.Hash, f.State, f.Error, f.Source,
		f.Attempts, f.UploadedBy, formatTime(f.CreatedAt), formatTime(nextAttempt))
	if err != nil {
		return fmt.Errorf("keep media: %w", err)
	}
	return nil
}

// InsertBlob implements storetx.MediaTx.
func (s steps) InsertBlob(ctx context.Context, hash string, data []byte) error {
	if _, err := s.ExecContext(ctx, `INSERT OR IGNORE INTO media_blobs (hash, size, data, created_at) VALUES (?, ?, ?, ?)`,
		hash, len(data), data, formatTime(s.Now())); err != nil {
		return fmt.Errorf("keep media bytes: %w", err)
	}
	return nil
}

// DropBlobs implements storetx.WebchatTx.
func (s steps) DropBlobs(ctx context.Context, hashes []string) error {
	for _, h := range hashes {
		if h == "" {
			continue
		}
		if _, err := s.ExecContext(ctx, `DELETE FROM media_blobs WHERE hash = ?
			AND NOT EXISTS (SELECT 1 FROM media_files WHERE hash = ?) AND NOT EXISTS (SELECT 1 FROM webchat_uploads WHERE hash = ?)`,
			h, h, h); err != nil {
			return fmt.Errorf("drop media bytes: %w", err)
		}
	}
	return nil
}

// WebchatUpload implements storetx.MediaTx.
func (s steps) WebchatUpload(ctx context.Context, instance, id string) (*storetx.Upload, error) {
	up := &storetx.Upload{ID: id}
	err := s.QueryRowContext(ctx, `SELECT hash, name, type, data FROM webchat_uploads WHERE instance = ? AND id = ?`, instance, id).
		Scan(&up.Hash, &up.Name, &up.Type, &up.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("keep web chat upload: %w", err)
	}
	return up, nil
}

// SetUploadHash implements storetx.MediaTx.
func (s steps) SetUploadHash(ctx context.Context, instance, id, hash string) error {
	if _, err := s.ExecContext(ctx, `UPDATE webchat_uploads SET hash = ?, data = x'' WHERE instance = ? AND id = ?`, hash, instance, id); err != nil {
		return fmt.Errorf("keep web chat upload: %w", err)
	}
	return nil
}

// InsertUploadMedia implements storetx.MediaTx.
func (s steps) InsertUploadMedia(ctx context.Context, conv *backend.Conversation, messageID string, up *storetx.Upload) error {
	var size int64
	if err := s.QueryRowContext(ctx, `SELECT size FROM media_blobs WHERE hash = ?`, up.Hash).Scan(&size); err != nil {
		return fmt.Errorf("keep web chat upload: %w", err)
	}
	_, err := s.ExecContext(ctx, `INSERT OR IGNORE INTO media_files (`+mediaColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', 0, '', ?)`,
		up.ID, conv.ID, messageID, conv.Channel, conv.Instance, up.Name, up.Type, size, up.Hash, backend.MediaReady, formatTime(s.Now()))
	if err != nil {
		return fmt.Errorf("keep web chat upload: %w", err)
	}
	return nil
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
		return nil, storekit.ErrMediaUnavailable(f)
	}
	var data []byte
	if err := db.r.QueryRowContext(ctx, `SELECT data FROM media_blobs WHERE hash = ?`, f.Hash).Scan(&data); errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "The file's content is missing.")
	} else if err != nil {
		return nil, fmt.Errorf("media content: %w", err)
	}
	return data, nil
}

// ClaimMediaFetches implements backend.MediaService.
func (db *DB) ClaimMediaFetches(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*backend.MediaFile, time.Time, error) {
	if limit <= 0 {
		limit = 20
	}
	// The hub asks after every commit; with nothing due, a read of the
	// partial index answers it without a write transaction.
	var soonest sql.NullString
	if err := db.r.QueryRowContext(ctx, nextMediaFetchQuery).Scan(&soonest); err != nil {
		return nil, time.Time{}, fmt.Errorf("claim media fetches: %w", err)
	} else if !soonest.Valid || soonest.String > formatTime(now) {
		return nil, parseTime(soonest.String), nil
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
		if err := tx.QueryRowContext(ctx, nextMediaFetchQuery).Scan(&at); err != nil {
			return fmt.Errorf("claim media fetches: %w", err)
		}
		next = parseTime(at.String)
		return nil
	})
	return out, next, err
}

// nextMediaFetchQuery reads when the soonest download is due from the
// partial index of files still to fetch.
const nextMediaFetchQuery = `SELECT MIN(next_attempt_at) FROM media_files WHERE state = 'fetching'`

// MediaForUpdate implements storetx.MediaTx: the one writer keeps others
// out.
func (s steps) MediaForUpdate(ctx context.Context, id string) (*backend.MediaFile, error) {
	return findMedia(ctx, s.Tx, id)
}

// AttachMedia implements storetx.MediaTx.
func (s steps) AttachMedia(ctx context.Context, messageID, id string) error {
	if _, err := s.ExecContext(ctx, `UPDATE media_files SET message_id = ? WHERE id = ? AND message_id = ''`, messageID, id); err != nil {
		return fmt.Errorf("attach media: %w", err)
	}
	return nil
}

// RetryMediaFetch implements storetx.MediaTx.
func (s steps) RetryMediaFetch(ctx context.Context, id, reason string, retryAt time.Time) error {
	_, err := s.ExecContext(ctx, `UPDATE media_files SET error = ?, next_attempt_at = ? WHERE id = ?`, reason, formatTime(retryAt), id)
	return err
}

// SettleMedia implements storetx.MediaTx.
func (s steps) SettleMedia(ctx context.Context, f *backend.MediaFile) error {
	// The platform's reference (a signed URL, a file id) is not kept
	// once the file is settled.
	if _, err := s.ExecContext(ctx, `UPDATE media_files SET hash = ?, type = ?, name = ?, size = ?, state = ?, error = ?, source = '',
		next_attempt_at = '' WHERE id = ?`, f.Hash, f.Type, f.Name, f.Size, f.State, f.Error, f.ID); err != nil {
		return fmt.Errorf("settle media fetch: %w", err)
	}
	return nil
}

// UpdateAttachments implements storetx.MediaTx.
func (s steps) UpdateAttachments(ctx context.Context, m *backend.Message) error {
	b, err := json.Marshal(m.Attachments)
	if err != nil {
		return err
	}
	if _, err := s.ExecContext(ctx, `UPDATE messages SET attachments = ?, updated_at = ? WHERE id = ?`, string(b), formatTime(m.UpdatedAt), m.ID); err != nil {
		return fmt.Errorf("update attachment: %w", err)
	}
	return nil
}
