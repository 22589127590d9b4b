package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
)

var _ backend.MediaService = (*DB)(nil)

const mediaColumns = `id, conversation_id, message_id, channel, instance, name, type, size, hash, state, error, source,
	attempts, uploaded_by, created_at`

func scanMedia(s scanner) (*backend.MediaFile, error) {
	var f backend.MediaFile
	if err := s.Scan(&f.ID, &f.ConversationID, &f.MessageID, &f.Channel, &f.Instance, &f.Name, &f.Type, &f.Size, &f.Hash,
		&f.State, &f.Error, &f.Source, &f.Attempts, &f.UploadedBy, at{&f.CreatedAt}); err != nil {
		return nil, err
	}
	return &f, nil
}

func findMedia(ctx context.Context, q querier, id string, lock string) (*backend.MediaFile, error) {
	f, err := one(ctx, q, scanMedia, backend.Errorf(backend.ENotFound, "The file does not exist."),
		`SELECT `+mediaColumns+` FROM media_files WHERE id = $1 `+lock, id)
	if backend.ErrorCode(err) == backend.EInternal {
		return nil, fmt.Errorf("find media: %w", err)
	}
	return f, err
}

func insertMedia(ctx context.Context, tx *Tx, f *backend.MediaFile, nextAttempt time.Time) error {
	f.CreatedAt = tx.Now()
	_, err := tx.Exec(ctx, `INSERT INTO media_files (`+mediaColumns+`, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		f.ID, f.ConversationID, f.MessageID, f.Channel, f.Instance, f.Name, f.Type, f.Size, f.Hash, f.State, f.Error, f.Source,
		f.Attempts, f.UploadedBy, f.CreatedAt, tz(nextAttempt))
	if err != nil {
		return fmt.Errorf("keep media: %w", err)
	}
	return nil
}

// putBlob stores data once per content and returns its hash.
func putBlob(ctx context.Context, tx *Tx, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if _, err := tx.Exec(ctx, `INSERT INTO media_blobs (hash, size, data, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING`,
		hash, len(data), data, tx.Now()); err != nil {
		return "", fmt.Errorf("keep media bytes: %w", err)
	}
	return hash, nil
}

// dropBlobs deletes the stored bytes of hashes no file or upload uses
// any more.
func dropBlobs(ctx context.Context, tx *Tx, hashes []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM media_blobs AS b WHERE b.hash = ANY ($1) AND b.hash <> ''
		AND NOT EXISTS (SELECT 1 FROM media_files WHERE hash = b.hash) AND NOT EXISTS (SELECT 1 FROM webchat_uploads WHERE hash = b.hash)`,
		hashes); err != nil {
		return fmt.Errorf("drop media bytes: %w", err)
	}
	return nil
}

// keepWebchatUpload records a visitor's upload (/widget/{instance}/files/{id})
// as a file of the conversation under the upload's own id, sharing its bytes.
func keepWebchatUpload(ctx context.Context, tx *Tx, conv *backend.Conversation, messageID, url string) error {
	id, ok := storekit.WebchatUploadID(url, conv.Instance)
	if !ok {
		return nil
	}
	var hash, name, typ string
	var data []byte
	err := tx.QueryRow(ctx, `SELECT hash, name, type, data FROM webchat_uploads WHERE instance = $1 AND id = $2`, conv.Instance, id).
		Scan(&hash, &name, &typ, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("keep web chat upload: %w", err)
	}
	if hash == "" { // an upload from before files were stored by content
		if hash, err = putBlob(ctx, tx, data); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE webchat_uploads SET hash = $1, data = '' WHERE instance = $2 AND id = $3`, hash, conv.Instance, id); err != nil {
			return fmt.Errorf("keep web chat upload: %w", err)
		}
	}
	_, err = tx.Exec(ctx, `INSERT INTO media_files (`+mediaColumns+`)
		SELECT $1, $2, $3, $4, $5, $6, $7, size, hash, 'ready', '', '', 0, '', $8 FROM media_blobs WHERE hash = $9
		ON CONFLICT (id) DO NOTHING`,
		id, conv.ID, messageID, conv.Channel, conv.Instance, name, typ, tx.Now(), hash)
	if err != nil {
		return fmt.Errorf("keep web chat upload: %w", err)
	}
	return nil
}

// MediaFile implements backend.MediaService.
func (db *DB) MediaFile(ctx context.Context, id string) (*backend.MediaFile, error) {
	return findMedia(ctx, db.pool, id, "")
}

// MediaContent implements backend.MediaService.
func (db *DB) MediaContent(ctx context.Context, id string) ([]byte, error) {
	f, err := findMedia(ctx, db.pool, id, "")
	if err != nil {
		return nil, err
	}
	if f.State != backend.MediaReady {
		return nil, storekit.ErrMediaUnavailable(f)
	}
	var data []byte
	if err := db.pool.QueryRow(ctx, `SELECT data FROM media_blobs WHERE hash = $1`, f.Hash).Scan(&data); errors.Is(err, pgx.ErrNoRows) {
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
		f.Type, f.State, f.MessageID, f.Error, f.Source, f.Attempts = storekit.SniffType(f.Type, data), backend.MediaReady, "", "", "", 0
		return insertMedia(ctx, tx, f, time.Time{})
	})
}

// ClaimMediaFetches implements backend.MediaService. Nodes claim at once:
// each takes the due files no other is claiming (SKIP LOCKED).
func (db *DB) ClaimMediaFetches(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*backend.MediaFile, time.Time, error) {
	if limit <= 0 {
		limit = 20
	}
	var out []*backend.MediaFile
	var next time.Time
	err := db.update(ctx, func(tx *Tx) (err error) {
		out, err = collect(ctx, tx, scanMedia, `WITH due AS (SELECT id FROM media_files WHERE state = 'fetching' AND next_attempt_at <= $1
			ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
			UPDATE media_files AS f SET attempts = f.attempts + 1, next_attempt_at = $2 FROM due WHERE f.id = due.id
			RETURNING `+qualified("f", mediaColumns), now, leaseUntil, limit)
		if err != nil {
			return fmt.Errorf("claim media fetches: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT MIN(next_attempt_at) FROM media_files WHERE state = 'fetching'`).Scan(at{&next}); err != nil {
			return fmt.Errorf("claim media fetches: %w", err)
		}
		return nil
	})
	return out, next, err
}

// SettleMediaFetch implements backend.MediaService.
func (db *DB) SettleMediaFetch(ctx context.Context, id string, res *backend.MediaFetch) error {
	return db.update(ctx, func(tx *Tx) error {
		f, err := findMedia(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		hash := ""
		if res.Data != nil {
			if hash, err = putBlob(ctx, tx, res.Data); err != nil {
				return err
			}
		}
		if storekit.SettleFetch(f, res, hash) {
			_, err := tx.Exec(ctx, `UPDATE media_files SET error = $1, next_attempt_at = $2 WHERE id = $3`, res.Reason, res.RetryAt, id)
			return err
		}
		// The platform's reference (a signed URL, a file id) is not kept
		// once the file is settled.
		if _, err := tx.Exec(ctx, `UPDATE media_files SET hash = $1, type = $2, name = $3, size = $4, state = $5, error = $6, source = '',
			next_attempt_at = NULL WHERE id = $7`, f.Hash, f.Type, f.Name, f.Size, f.State, f.Error, id); err != nil {
			return fmt.Errorf("settle media fetch: %w", err)
		}
		return updateAttachment(ctx, tx, f)
	})
}

// updateAttachment brings the attachment that names f on f's message in
// line with f, and tells the feed.
func updateAttachment(ctx context.Context, tx *Tx, f *backend.MediaFile) error {
	if f.MessageID == "" {
		return nil
	}
	m, err := findMessage(ctx, tx, `id = $1 FOR UPDATE`, f.MessageID)
	if backend.ErrorCode(err) == backend.ENotFound {
		return nil
	} else if err != nil {
		return err
	}
	if !storekit.SettleAttachments(m.Attachments, f) {
		return nil
	}
	m.UpdatedAt = tx.Now()
	if _, err := tx.Exec(ctx, `UPDATE messages SET attachments = $1, updated_at = $2 WHERE id = $3`, m.Attachments, m.UpdatedAt, m.ID); err != nil {
		return fmt.Errorf("update attachment: %w", err)
	}
	return tx.AppendEvent(ctx, backend.EventMessageUpserted, m.ID, m)
}

// PollerState implements backend.ChannelService.
func (db *DB) PollerState(ctx context.Context, connector, instance string) ([]byte, error) {
	var state []byte
	err := db.pool.QueryRow(ctx, `SELECT state FROM channel_poller_state WHERE connector = $1 AND instance = $2`, connector, instance).Scan(&state)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("poller state: %w", err)
	}
	return state, nil
}

// SavePollerState implements backend.ChannelService.
func (db *DB) SavePollerState(ctx context.Context, connector, instance string, state []byte) error {
	return db.update(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO channel_poller_state (connector, instance, state, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (connector, instance) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
			connector, instance, state, tx.Now())
		if err != nil {
			return fmt.Errorf("save poller state: %w", err)
		}
		return nil
	})
}

// mediaKeeper keeps the files of a message of conv in tx (messageID: the
// message's id).
func mediaKeeper(ctx context.Context, tx *Tx, conv *backend.Conversation, messageID string) storekit.MediaKeeper {
	return storekit.MediaKeeper{
		PutBlob:           func(data []byte) (string, error) { return putBlob(ctx, tx, data) },
		Insert:            func(f *backend.MediaFile, next time.Time) error { return insertMedia(ctx, tx, f, next) },
		KeepWebchatUpload: func(url string) error { return keepWebchatUpload(ctx, tx, conv, messageID, url) },
		Find:              func(id string) (*backend.MediaFile, error) { return findMedia(ctx, tx, id, "FOR UPDATE") },
		Attach: func(id string) error {
			if _, err := tx.Exec(ctx, `UPDATE media_files SET message_id = $1 WHERE id = $2 AND message_id = ''`, messageID, id); err != nil {
				return fmt.Errorf("attach media: %w", err)
			}
			return nil
		},
	}
}
