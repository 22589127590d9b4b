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
// one as a prefix), newest first.
func (c *Cache) Search(ctx context.Context, query string, limit int) ([]Hit, error) {
	q := ftsQuery(query)
	if q == "" {
		return []Hit{}, nil
	}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	// Newest first: FTS5 walks its index in rowid order and stops at the
	// limit, where ranking by relevance would score every match first.
	rows, err := c.db.QueryContext(ctx, `SELECT m.id, m.conversation_id, COALESCE(ct.name, ''), COALESCE(cv.channel, ''),
			m.data ->> '$.direction', hit.snippet, m.created_at
		FROM (SELECT rowid, snippet(messages_fts, 0, '[', ']', '…', 12) AS snippet FROM messages_fts
			WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?) hit
		JOIN messages m ON m.rowid = hit.rowid
		LEFT JOIN conversations cv ON cv.id = m.conversation_id
		LEFT JOIN contacts ct ON ct.id = cv.contact_id
		ORDER BY hit.rowid DESC`, q, limit)
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
