package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"switchboard/backend"
)

// keepMedia stores each attachment that arrived inside the message as a
// data: URL (an email's parts) and points it at the engine's own
// /media/{id} instead, so no data: URL reaches a screen.
func keepMedia(ctx context.Context, tx *Tx, messageID string, atts []backend.Attachment) ([]backend.Attachment, error) {
	out, copied := atts, false
	for i, a := range atts {
		typ, data, ok := backend.ParseDataURL(a.URL)
		if !ok {
			continue
		}
		if !copied {
			out, copied = append([]backend.Attachment(nil), atts...), true
		}
		if a.Type == "" {
			a.Type = typ
		}
		id := backend.NewID("me")
		if _, err := tx.ExecContext(ctx, `INSERT INTO media (id, message_id, name, type, size, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, messageID, a.Name, a.Type, len(data), data, formatTime(tx.Now())); err != nil {
			return nil, fmt.Errorf("keep media: %w", err)
		}
		a.URL, a.Size = backend.MediaPath+id, int64(len(data))
		out[i] = a
	}
	return out, nil
}

// Media returns a file kept from an inbound message. Returns ENotFound.
func (db *DB) Media(ctx context.Context, id string) (name, typ string, data []byte, err error) {
	err = db.r.QueryRowContext(ctx, `SELECT name, type, data FROM media WHERE id = ?`, id).Scan(&name, &typ, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil, backend.Errorf(backend.ENotFound, "The file does not exist.")
	} else if err != nil {
		return "", "", nil, fmt.Errorf("media: %w", err)
	}
	return name, typ, data, nil
}
