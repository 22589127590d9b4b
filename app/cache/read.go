package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"switchboard/backend"
)

// Summary is a conversation as the inbox lists it.
type Summary struct {
	backend.Conversation
	ContactName string `json:"contactName"`
	Unread      int    `json:"unread"`
}

// Filter narrows Conversations. Empty fields match all.
type Filter struct {
	Status  string `json:"status,omitempty"`
	Channel string `json:"channel,omitempty"`
	// Query is a full-text search over message text (and contact names).
	Query string `json:"query,omitempty"`
	Limit int    `json:"limit,omitempty"`
}

// Conversations lists cached conversations, newest activity first.
func (c *Cache) Conversations(ctx context.Context, f Filter) ([]Summary, error) {
	where := []string{"1 = 1"}
	var args []any
	if f.Status != "" {
		where, args = append(where, "cv.status = ?"), append(args, f.Status)
	}
	if f.Channel != "" {
		where, args = append(where, "(cv.channel = ? OR cv.channel LIKE ? || '.%')"), append(args, f.Channel, f.Channel)
	}
	if q := ftsQuery(f.Query); q != "" {
		where = append(where, `(cv.id IN (SELECT m.conversation_id FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid
			WHERE messages_fts MATCH ?) OR ct.name LIKE ?)`)
		args = append(args, q, "%"+strings.TrimSpace(f.Query)+"%")
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 500
	}
	rows, err := c.db.QueryContext(ctx, `SELECT cv.data, cv.unread, COALESCE(ct.name, '') FROM conversations cv
		LEFT JOIN contacts ct ON ct.id = cv.contact_id WHERE `+strings.Join(where, " AND ")+`
		ORDER BY cv.last_message_at DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	defer rows.Close()
	out := []Summary{}
	for rows.Next() {
		var s Summary
		var data string
		if err := rows.Scan(&data, &s.Unread, &s.ContactName); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &s.Conversation); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ftsQuery turns what a person typed into an FTS5 query: every word must
// appear, the last one as a prefix. Quotes keep FTS syntax out.
func ftsQuery(s string) string {
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
	for i, w := range words {
		words[i] = `"` + w + `"`
	}
	if len(words) == 0 {
		return ""
	}
	words[len(words)-1] += "*"
	return strings.Join(words, " ")
}

// Detail is one conversation with its contact and messages.
type Detail struct {
	Conversation Summary           `json:"conversation"`
	Contact      backend.Contact   `json:"contact"`
	Messages     []backend.Message `json:"messages"`
}

// Conversation returns one cached conversation. Returns ENotFound.
func (c *Cache) Conversation(ctx context.Context, id string) (*Detail, error) {
	var d Detail
	var convData, contactData string
	err := c.db.QueryRowContext(ctx, `SELECT cv.data, cv.unread, COALESCE(ct.name, ''), COALESCE(ct.data, '{}') FROM conversations cv
		LEFT JOIN contacts ct ON ct.id = cv.contact_id WHERE cv.id = ?`, id).Scan(&convData, &d.Conversation.Unread, &d.Conversation.ContactName, &contactData)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "Conversation %s is not in this computer's cache.", id)
	} else if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(convData), &d.Conversation.Conversation); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(contactData), &d.Contact); err != nil {
		return nil, err
	}
	if d.Messages, err = c.messages(ctx, id); err != nil {
		return nil, err
	}
	return &d, nil
}

func (c *Cache) messages(ctx context.Context, conversationID string) ([]backend.Message, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT data FROM messages WHERE conversation_id = ? ORDER BY created_at, rowid`, conversationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []backend.Message{}
	for rows.Next() {
		var data string
		var m backend.Message
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MarkRead clears a conversation's unread count.
func (c *Cache) MarkRead(ctx context.Context, id string) error {
	_, err := c.db.ExecContext(ctx, `UPDATE conversations SET unread = 0 WHERE id = ?`, id)
	return err
}

// Counts returns how many conversations and messages the cache holds.
func (c *Cache) Counts(ctx context.Context) (conversations, messages int, err error) {
	err = c.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM conversations), (SELECT COUNT(*) FROM messages)`).Scan(&conversations, &messages)
	return
}
