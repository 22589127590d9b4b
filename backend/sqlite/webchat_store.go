package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storetx"
)

// WebchatKey returns the named 32-byte server key of the web chat widget,
// creating it on first use. Every engine sharing this store signs and checks
// visitor tokens with the same key. It is stored sealed; without the
// engine's secret key it returns EUnavailable.
func (db *DB) WebchatKey(ctx context.Context, name string) ([]byte, error) {
	var stored []byte
	err := db.r.QueryRowContext(ctx, `SELECT key FROM webchat_keys WHERE name = ?`, name).Scan(&stored)
	if err == nil {
		return db.open(string(stored), webchatKeyContext(name))
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("webchat key: %w", err)
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("webchat key: %w", err)
	}
	sealed, err := db.seal(fresh, webchatKeyContext(name))
	if err != nil {
		return nil, err
	}
	err = db.update(ctx, func(tx *Tx) error {
		// Two engines racing both insert-or-ignore, then read the winner.
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO webchat_keys (name, key, created_at) VALUES (?, ?, ?)`,
			name, sealed, formatTime(tx.Now())); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT key FROM webchat_keys WHERE name = ?`, name).Scan(&stored)
	})
	if err != nil {
		return nil, fmt.Errorf("webchat key: %w", err)
	}
	return db.open(string(stored), webchatKeyContext(name))
}

var _ storetx.WebchatTx = steps{}

// UploadTotals implements storetx.WebchatTx.
func (s steps) UploadTotals(ctx context.Context, instance, subject string, since time.Time) (visitor, total int64, err error) {
	if err := s.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN subject = ? THEN size END), 0), COALESCE(SUM(size), 0)
		FROM webchat_uploads WHERE instance = ? AND created_at >= ?`, subject, instance, formatTime(since)).Scan(&visitor, &total); err != nil {
		return 0, 0, fmt.Errorf("webchat upload quota: %w", err)
	}
	return visitor, total, nil
}

// InsertUpload implements storetx.WebchatTx.
func (s steps) InsertUpload(ctx context.Context, id, instance, subject, name, typ string, size int64, hash string) error {
	_, err := s.ExecContext(ctx, `INSERT INTO webchat_uploads (id, instance, subject, name, type, size, data, hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?, x'', ?, ?)`, id, instance, subject, name, typ, size, hash, formatTime(s.Now()))
	if err != nil {
		return fmt.Errorf("put webchat upload: %w", err)
	}
	return nil
}

// AttachUpload implements storetx.WebchatTx.
func (s steps) AttachUpload(ctx context.Context, instance, id, subject string) (*backend.Attachment, error) {
	var a backend.Attachment
	err := s.QueryRowContext(ctx, `UPDATE webchat_uploads SET attached_at = CASE WHEN attached_at = '' THEN ? ELSE attached_at END
		WHERE instance = ? AND id = ? AND subject = ? RETURNING name, type, size`, formatTime(s.Now()), instance, id, subject).
		Scan(&a.Name, &a.Type, &a.Size)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("attach webchat upload: %w", err)
	}
	return &a, nil
}

// DeleteOrphanUploads implements storetx.WebchatTx.
func (s steps) DeleteOrphanUploads(ctx context.Context, cutoff time.Time) ([]string, error) {
	rows, err := s.QueryContext(ctx, `DELETE FROM webchat_uploads WHERE attached_at = '' AND created_at < ? RETURNING hash`, formatTime(cutoff))
	if err != nil {
		return nil, fmt.Errorf("delete unattached uploads: %w", err)
	}
	defer rows.Close()
	var hashes []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		hashes = append(hashes, h)
	}
	return hashes, rows.Err()
}

// WebchatUpload returns one uploaded file of a widget instance and the
// visitor (subject) who uploaded it. Returns ENotFound.
func (db *DB) WebchatUpload(ctx context.Context, instance, id string) (subject, name, typ string, data []byte, err error) {
	err = db.r.QueryRowContext(ctx, `SELECT u.subject, u.name, u.type, CASE WHEN u.hash = '' THEN u.data ELSE b.data END
		FROM webchat_uploads AS u LEFT JOIN media_blobs AS b ON b.hash = u.hash WHERE u.instance = ? AND u.id = ?`, instance, id).
		Scan(&subject, &name, &typ, &data)
	if errors.Is(err, sql.ErrNoRows) {
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
	rows, err := db.r.QueryContext(ctx, `SELECT `+messageColumns+` FROM (
		SELECT rowid AS rid, * FROM messages WHERE channel = 'webchat' AND instance = ? AND private = 0
			AND conversation_id IN (SELECT id FROM conversations WHERE channel = 'webchat' AND instance = ? AND thread_key = ?)
		ORDER BY created_at DESC, rid DESC LIMIT ?) ORDER BY created_at, rid`, instance, instance, threadKey, limit)
	if err != nil {
		return nil, fmt.Errorf("webchat history: %w", err)
	}
	defer rows.Close()
	out := []*backend.Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
