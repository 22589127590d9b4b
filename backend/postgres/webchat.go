package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
)

// WebchatKey returns the named 32-byte server key of the web chat widget,
// creating it on first use; every node signs and checks visitor tokens with
// the same key. It is stored sealed; without the engine's secret key it
// returns EUnavailable.
func (db *DB) WebchatKey(ctx context.Context, name string) ([]byte, error) {
	var stored string
	err := db.pool.QueryRow(ctx, `SELECT key FROM webchat_keys WHERE name = $1`, name).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		stored, err = db.newWebchatKey(ctx, name)
	}
	if err != nil {
		return nil, fmt.Errorf("webchat key: %w", err)
	}
	return db.secrets().Open(stored, storekit.WebchatKeyContext(name))
}

// newWebchatKey stores a new sealed key under name, unless another node
// just did: both insert-or-ignore, then read the winner.
func (db *DB) newWebchatKey(ctx context.Context, name string) (string, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return "", err
	}
	sealed, err := db.secrets().Seal(fresh, storekit.WebchatKeyContext(name))
	if err != nil {
		return "", err
	}
	var stored string
	err = db.update(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO webchat_keys (name, key, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
			name, sealed, tx.Now()); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT key FROM webchat_keys WHERE name = $1`, name).Scan(&stored)
	})
	return stored, err
}

var _ storetx.WebchatTx = steps{}

// UploadTotals implements storetx.WebchatTx.
func (s steps) UploadTotals(ctx context.Context, instance, subject string, since time.Time) (visitor, total int64, err error) {
	if err := s.QueryRow(ctx, `SELECT COALESCE(SUM(size) FILTER (WHERE subject = $1), 0), COALESCE(SUM(size), 0)
		FROM webchat_uploads WHERE instance = $2 AND created_at >= $3`, subject, instance, since).Scan(&visitor, &total); err != nil {
		return 0, 0, fmt.Errorf("webchat upload quota: %w", err)
	}
	return visitor, total, nil
}

// InsertUpload implements storetx.WebchatTx.
func (s steps) InsertUpload(ctx context.Context, id, instance, subject, name, typ string, size int64, hash string) error {
	if _, err := s.Exec(ctx, `INSERT INTO webchat_uploads (id, instance, subject, name, type, size, data, hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, '', $7, $8)`, id, instance, subject, name, typ, size, hash, s.Now()); err != nil {
		return fmt.Errorf("put webchat upload: %w", err)
	}
	return nil
}

// AttachUpload implements storetx.WebchatTx.
func (s steps) AttachUpload(ctx context.Context, instance, id, subject string) (*backend.Attachment, error) {
	var a backend.Attachment
	err := s.QueryRow(ctx, `UPDATE webchat_uploads SET attached_at = COALESCE(attached_at, $1)
		WHERE instance = $2 AND id = $3 AND subject = $4 RETURNING name, type, size`, s.Now(), instance, id, subject).
		Scan(&a.Name, &a.Type, &a.Size)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("attach webchat upload: %w", err)
	}
	return &a, nil
}

// DeleteOrphanUploads implements storetx.WebchatTx.
func (s steps) DeleteOrphanUploads(ctx context.Context, cutoff time.Time) ([]string, error) {
	hashes, err := stringList(ctx, s.Tx, `DELETE FROM webchat_uploads WHERE attached_at IS NULL AND created_at < $1 RETURNING hash`, cutoff)
	if err != nil {
		return nil, fmt.Errorf("delete unattached uploads: %w", err)
	}
	return hashes, nil
}

// WebchatUpload returns one uploaded file of a widget instance and the
// visitor (subject) who uploaded it. Returns ENotFound.
func (db *DB) WebchatUpload(ctx context.Context, instance, id string) (subject, name, typ string, data []byte, err error) {
	err = db.pool.QueryRow(ctx, `SELECT u.subject, u.name, u.type, CASE WHEN u.hash = '' THEN u.data ELSE b.data END
		FROM webchat_uploads AS u LEFT JOIN media_blobs AS b ON b.hash = u.hash WHERE u.instance = $1 AND u.id = $2`, instance, id).
		Scan(&subject, &name, &typ, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", "", nil, backend.Errorf(backend.ENotFound, "The file does not exist.")
	} else if err != nil {
		return "", "", "", nil, fmt.Errorf("webchat upload: %w", err)
	}
	return subject, name, typ, data, nil
}

// WebchatHistory returns the newest limit non-private messages of every
// conversation of one visitor (thread key) on a widget instance, oldest
// first. It reads only that thread, so a visitor sees nobody else's.
func (db *DB) WebchatHistory(ctx context.Context, instance, threadKey string, limit int) ([]*backend.Message, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	out, err := collect(ctx, db.pool, messageScan, `SELECT `+messageColumns+` FROM (
		SELECT * FROM messages WHERE channel = 'webchat' AND instance = $1 AND NOT private
			AND conversation_id IN (SELECT id FROM conversations WHERE channel = 'webchat' AND instance = $1 AND thread_key = $2)
		ORDER BY created_at DESC, pos DESC NULLS FIRST LIMIT $3) AS newest ORDER BY created_at, pos NULLS LAST`, instance, threadKey, limit)
	if err != nil {
		return nil, fmt.Errorf("webchat history: %w", err)
	}
	return nonNil(out), nil
}
