package cache

import (
	"context"
	"fmt"
	"time"
)

// Hit is one message matching a search.
type Hit struct {
	MessageID      string `json:"messageId"`
	ConversationID string `json:"conversationId"`
	ContactName    string `json:"contactName"`
	Channel        string `json:"channel"`
	Direction      string `json:"direction"`
	// Snippet is the matching text with the match between [ and ].
	Snippet   string    `json:"snippet"`
	CreatedAt time.Time `json:"createdAt"`
}

// Search finds cached messages containing every word of query (the last
// one as a prefix), best matches first.
func (c *Cache) Search(ctx context.Context, query string, limit int) ([]Hit, error) {
	q := ftsQuery(query)
	if q == "" {
		return []Hit{}, nil
	}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := c.db.QueryContext(ctx, `SELECT m.id, m.conversation_id, COALESCE(ct.name, ''), COALESCE(cv.channel, ''),
			m.data ->> '$.direction', snippet(messages_fts, 0, '[', ']', '…', 12), m.created_at
		FROM messages_fts
		JOIN messages m ON m.rowid = messages_fts.rowid
		LEFT JOIN conversations cv ON cv.id = m.conversation_id
		LEFT JOIN contacts ct ON ct.id = cv.contact_id
		WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?`, q, limit)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	hits := []Hit{}
	for rows.Next() {
		var h Hit
		var created string
		if err := rows.Scan(&h.MessageID, &h.ConversationID, &h.ContactName, &h.Channel, &h.Direction, &h.Snippet, &created); err != nil {
			return nil, err
		}
		h.CreatedAt, _ = time.Parse(timeFormat, created)
		hits = append(hits, h)
	}
	return hits, rows.Err()
}
