package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
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

var _ storetx.MediaTx = steps{}

// InsertMedia implements storetx.MediaTx.
func (s steps) InsertMedia(ctx context.Context, f *backend.MediaFile, nextAttempt time.Time) error {
	_, err := s.Exec(ctx, `INSERT INTO media_files (`+mediaColumns+`, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		f.ID, f.ConversationID, f.MessageID, f.Channel, f.Instance, f.Name, f.Type, f.Size, f.Hash, f.State, f.Error, f.Source,
		f.Attempts, f.UploadedBy, f.CreatedAt, tz(nextAttempt))
	if err != nil {
		return fmt.Errorf("keep media: %w", err)
	}
	return nil
}

// InsertBlob implements storetx.MediaTx.
func (s steps) InsertBlob(ctx context.Context, hash string, data []byte) error {
	if _, err := s.Exec(ctx, `INSERT INTO media_blobs (hash, size, data, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING`,
		hash, len(data), data, s.Now()); err != nil {
		return fmt.Errorf("keep media bytes: %w", err)
	}
	return nil
}

// DropBlobs implements storetx.WebchatTx.
func (s steps) DropBlobs(ctx context.Context, hashes []string) error {
	if _, err := s.Exec(ctx, `DELETE FROM media_blobs AS b WHERE b.hash = ANY ($1) AND b.hash <> ''
		AND NOT EXISTS (SELECT 1 FROM media_files WHERE hash = b.hash) AND NOT EXISTS (SELECT 1 FROM webchat_uploads WHERE hash = b.hash)`,
		hashes); err != nil {
		return fmt.Errorf("drop media bytes: %w", err)
	}
	return nil
}

// WebchatUpload implements storetx.MediaTx.
func (s steps) WebchatUpload(ctx context.Context, instance, id string) (*storetx.Upload, error) {
	up := &storetx.Upload{ID: id}
	err := s.QueryRow(ctx, `SELECT hash, name, type, data FROM webchat_uploads WHERE instance = $1 AND id = $2`, instance, id).
		Scan(&up.Hash, &up.Name, &up.Type, &up.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("keep web chat upload: %w", err)
	}
	return up, nil
}

// SetUploadHash implements storetx.MediaTx.
func (s steps) SetUploadHash(ctx context.Context, instance, id, hash string) error {
	if _, err := s.Exec(ctx, `UPDATE webchat_uploads SET hash = $1, data = '' WHERE instance = $2 AND id = $3`, hash, instance, id); err != nil {
		return fmt.Errorf("keep web chat upload: %w", err)
	}
	return nil
}

// InsertUploadMedia implements storetx.MediaTx, in one statement.
func (s steps) InsertUploadMedia(ctx context.Context, conv *backend.Conversation, messageID string, up *storetx.Upload) error {
	_, err := s.Exec(ctx, `INSERT INTO media_files (`+mediaColumns+`)
		SELECT $1, $2, $3, $4, $5, $6, $7, size, hash, 'ready', '', '', 0, '', $8 FROM media_blobs WHERE hash = $9
		ON CONFLICT (id) DO NOTHING`,
		up.ID, conv.ID, messageID, conv.Channel, conv.Instance, up.Name, up.Type, s.Now(), up.Hash)
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

// MediaForUpdate implements storetx.MediaTx: the row stays locked until
// the commit.
func (s steps) MediaForUpdate(ctx context.Context, id string) (*backend.MediaFile, error) {
	return findMedia(ctx, s.Tx, id, "FOR UPDATE")
}

// AttachMedia implements storetx.MediaTx.
func (s steps) AttachMedia(ctx context.Context, messageID, id string) error {
	if _, err := s.Exec(ctx, `UPDATE media_files SET message_id = $1 WHERE id = $2 AND message_id = ''`, messageID, id); err != nil {
		return fmt.Errorf("attach media: %w", err)
	}
	return nil
}

// RetryMediaFetch implements storetx.MediaTx.
func (s steps) RetryMediaFetch(ctx context.Context, id, reason string, retryAt time.Time) error {
	_, err := s.Exec(ctx, `UPDATE media_files SET error = $1, next_attempt_at = $2 WHERE id = $3`, reason, retryAt, id)
	return err
}

// SettleMedia implements storetx.MediaTx.
func (s steps) SettleMedia(ctx context.Context, f *backend.MediaFile) error {
	// The platform's reference (a signed URL, a file id) is not kept
	// once the file is settled.
	if _, err := s.Exec(ctx, `UPDATE media_files SET hash = $1, type = $2, name = $3, size = $4, state = $5, error = $6, source = '',
		next_attempt_at = NULL WHERE id = $7`, f.Hash, f.Type, f.Name, f.Size, f.State, f.Error, f.ID); err != nil {
		return fmt.Errorf("settle media fetch: %w", err)
	}
	return nil
}

// UpdateAttachments implements storetx.MediaTx.
func (s steps) UpdateAttachments(ctx context.Context, m *backend.Message) error {
	if _, err := s.Exec(ctx, `UPDATE messages SET attachments = $1, updated_at = $2 WHERE id = $3`, m.Attachments, m.UpdatedAt, m.ID); err != nil {
		return fmt.Errorf("update attachment: %w", err)
	}
	return nil
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
