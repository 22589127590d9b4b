package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"switchboard/backend"
)

// Entity types kept in the entities table (event type less ".upserted").
const (
	EntityTask        = "task"
	EntityReservation = "reservation"
	EntityWorker      = "worker"
	EntityQueue       = "queue"
	EntityActivity    = "activity"
	EntityCanned      = "canned"
	EntityLabel       = "label"
	// EntityMissedOffer keeps offer.missed events, by reservation id.
	EntityMissedOffer = "missed_offer"
)

// Labels lists the cached labels by name.
func (c *Cache) Labels(ctx context.Context) ([]backend.Label, error) {
	list, err := entities[backend.Label](ctx, c, EntityLabel, "")
	slices.SortFunc(list, func(a, b backend.Label) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return list, err
}

// entities decodes every entity of one type into T.
func entities[T any](ctx context.Context, c *Cache, typ, where string, args ...any) ([]T, error) {
	q := `SELECT data FROM entities WHERE type = ?`
	if where != "" {
		q += " AND " + where
	}
	rows, err := c.db.QueryContext(ctx, q, append([]any{typ}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var v T
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Workers lists the cached workers.
func (c *Cache) Workers(ctx context.Context) ([]backend.Worker, error) {
	return entities[backend.Worker](ctx, c, EntityWorker, "")
}

// WorkerByUser returns the worker of a user, or ENotFound.
func (c *Cache) WorkerByUser(ctx context.Context, userID string) (*backend.Worker, error) {
	ws, err := entities[backend.Worker](ctx, c, EntityWorker, `data ->> '$.userId' = ?`, userID)
	if err != nil {
		return nil, err
	} else if len(ws) == 0 {
		return nil, backend.Errorf(backend.ENotFound, "You are not set up to take tasks; an admin can add you as a worker.")
	}
	return &ws[0], nil
}

// Queues lists the cached queues.
func (c *Cache) Queues(ctx context.Context) ([]backend.Queue, error) {
	return entities[backend.Queue](ctx, c, EntityQueue, "")
}

// Activities lists the cached activities.
func (c *Cache) Activities(ctx context.Context) ([]backend.Activity, error) {
	return entities[backend.Activity](ctx, c, EntityActivity, "")
}

// PendingReservations lists a worker's open offers, oldest first.
func (c *Cache) PendingReservations(ctx context.Context, workerID string) ([]backend.Reservation, error) {
	return entities[backend.Reservation](ctx, c, EntityReservation,
		`data ->> '$.workerId' = ? AND data ->> '$.state' = 'pending' ORDER BY data ->> '$.createdAt'`, workerID)
}

// MissedOffer is an offer the worker let expire, as the inbox shows it.
type MissedOffer struct {
	backend.MissedOffer
	Dismissed bool `json:"dismissed,omitempty"`
}

// MissedOffers lists a worker's missed offers that expired at or after
// since and were not dismissed, newest first.
func (c *Cache) MissedOffers(ctx context.Context, workerID string, since time.Time) ([]MissedOffer, error) {
	return entities[MissedOffer](ctx, c, EntityMissedOffer, `data ->> '$.workerId' = ? AND data ->> '$.expiredAt' >= ?
		AND COALESCE(data ->> '$.dismissed', 0) = 0 ORDER BY data ->> '$.expiredAt' DESC, id DESC`,
		workerID, since.UTC().Format(time.RFC3339))
}

// DismissMissedOffer hides a missed offer from the inbox.
func (c *Cache) DismissMissedOffer(ctx context.Context, reservationID string) error {
	_, err := c.db.ExecContext(ctx, `UPDATE entities SET data = json_set(data, '$.dismissed', json('true')) WHERE type = ? AND id = ?`,
		EntityMissedOffer, reservationID)
	return err
}

// Task returns a cached task, or ENotFound.
func (c *Cache) Task(ctx context.Context, id string) (*backend.Task, error) {
	var data string
	err := c.db.QueryRowContext(ctx, `SELECT data FROM entities WHERE type = ? AND id = ?`, EntityTask, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "Task %s is not in this computer's cache.", id)
	} else if err != nil {
		return nil, err
	}
	var t backend.Task
	return &t, json.Unmarshal([]byte(data), &t)
}

// OpenTask returns the open task serving a conversation, or nil.
func (c *Cache) OpenTask(ctx context.Context, conversationID string) (*backend.Task, error) {
	ts, err := entities[backend.Task](ctx, c, EntityTask,
		`data ->> '$.conversationId' = ? AND data ->> '$.state' IN ('pending', 'reserved', 'assigned', 'wrapping') ORDER BY data ->> '$.createdAt' DESC LIMIT 1`, conversationID)
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	return &ts[0], nil
}

// CannedResponse is a saved reply with placeholders such as {{contact.name}}.
type CannedResponse struct {
	ID       string `json:"id"`
	Shortcut string `json:"shortcut"`
	Title    string `json:"title"`
	Text     string `json:"text"`
}

// CannedResponses lists the cached canned responses by shortcut.
func (c *Cache) CannedResponses(ctx context.Context) ([]CannedResponse, error) {
	return entities[CannedResponse](ctx, c, EntityCanned, `1 = 1 ORDER BY data ->> '$.shortcut'`)
}

// FirstInbound returns the text of a conversation's first inbound message.
func (c *Cache) FirstInbound(ctx context.Context, conversationID string) (string, error) {
	var text string
	err := c.db.QueryRowContext(ctx, `SELECT text FROM messages WHERE conversation_id = ? AND data ->> '$.direction' = 'in'
		ORDER BY created_at, rowid LIMIT 1`, conversationID).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return text, err
}
