package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"switchboard/backend"
)

// Summary is a conversation as the inbox lists it, with its open task.
type Summary struct {
	backend.Conversation
	ContactName  string `json:"contactName"`
	Unread       int    `json:"unread"`
	TaskID       string `json:"taskId,omitempty"`
	TaskState    string `json:"taskState,omitempty"`
	QueueName    string `json:"queueName,omitempty"`
	AssigneeName string `json:"assigneeName,omitempty"`
	// TaskWorkerID is the worker the open task is offered or assigned to.
	TaskWorkerID string `json:"taskWorkerId,omitempty"`
	// TaskCreatedAt is when the open task started waiting, and
	// QueueSLASeconds its queue's answer-time threshold (0: the default):
	// a task waiting longer is flagged.
	TaskCreatedAt   time.Time `json:"taskCreatedAt,omitzero"`
	QueueSLASeconds int       `json:"queueSlaSeconds,omitempty"`
	// Queued counts replies and notes waiting in this computer's outbox;
	// QueuedText is the newest such reply, for the list's preview.
	Queued     int    `json:"queued,omitempty"`
	QueuedText string `json:"queuedText,omitempty"`
}

// Inbox scopes.
const (
	ScopeMine   = "mine"   // conversations assigned to the user, or whose open task the worker holds
	ScopeQueues = "queues" // conversations with an open task
	ScopeAll    = "all"
)

// Filter narrows Conversations. Empty fields match all.
type Filter struct {
	Status  string `json:"status,omitempty"`
	Channel string `json:"channel,omitempty"`
	// Query is a full-text search over message text (and contact names).
	Query string `json:"query,omitempty"`
	// Scope is mine, queues or all ("" means all).
	Scope string `json:"scope,omitempty"`
	// UserID and WorkerID are whose conversations and tasks "mine" means;
	// the app sets them.
	UserID   string `json:"-"`
	WorkerID string `json:"-"`
	// ContactID narrows to one contact's conversations.
	ContactID string `json:"-"`
	// ID narrows to one conversation.
	ID string `json:"-"`
	// Label narrows to conversations carrying the label (its id).
	Label string `json:"label,omitempty"`
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
	if f.ContactID != "" {
		where, args = append(where, "cv.contact_id = ?"), append(args, f.ContactID)
	}
	if f.ID != "" {
		where, args = append(where, "cv.id = ?"), append(args, f.ID)
	}
	if f.Label != "" {
		where, args = append(where, "EXISTS (SELECT 1 FROM json_each(cv.data, '$.labels') WHERE value = ?)"), append(args, f.Label)
	}
	switch f.Scope {
	case ScopeMine:
		where = append(where, `(cv.data ->> '$.assigneeId' = ? OR (t.data ->> '$.workerId' = ? AND t.data ->> '$.state' IN ('assigned', 'wrapping')))`)
		args = append(args, f.UserID, f.WorkerID)
	case ScopeQueues:
		where = append(where, "t.id IS NOT NULL")
	case "", ScopeAll:
	default:
		return nil, backend.Errorf(backend.EInvalid, "Scope must be mine, queues or all, not %q.", f.Scope)
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
	rows, err := c.db.QueryContext(ctx, `SELECT cv.data, cv.unread, COALESCE(ct.name, ''), COALESCE(t.id, ''),
			COALESCE(t.data ->> '$.state', ''), COALESCE(q.data ->> '$.name', ''), COALESCE(w.data ->> '$.name', ''),
			COALESCE(t.data ->> '$.workerId', ''), COALESCE(t.data ->> '$.createdAt', ''), COALESCE(q.data ->> '$.slaSeconds', 0),
			(SELECT COUNT(*) FROM outbox o WHERE o.conversation_id = cv.id),
			COALESCE((SELECT o.text FROM outbox o WHERE o.conversation_id = cv.id AND o.private = 0 ORDER BY o.created_at DESC LIMIT 1), '')
		FROM conversations cv
		LEFT JOIN contacts ct ON ct.id = cv.contact_id
		LEFT JOIN entities t ON t.type = 'task' AND t.data ->> '$.conversationId' = cv.id
			AND t.data ->> '$.state' IN ('pending', 'reserved', 'assigned', 'wrapping')
		LEFT JOIN entities q ON q.type = 'queue' AND q.id = t.data ->> '$.queueId'
		LEFT JOIN entities w ON w.type = 'worker' AND w.id = t.data ->> '$.workerId'
		WHERE `+strings.Join(where, " AND ")+`
		GROUP BY cv.id ORDER BY cv.last_message_at DESC, cv.id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	defer rows.Close()
	out := []Summary{}
	for rows.Next() {
		var s Summary
		var data, taskCreated string
		if err := rows.Scan(&data, &s.Unread, &s.ContactName, &s.TaskID, &s.TaskState, &s.QueueName, &s.AssigneeName,
			&s.TaskWorkerID, &taskCreated, &s.QueueSLASeconds, &s.Queued, &s.QueuedText); err != nil {
			return nil, err
		}
		s.TaskCreatedAt, _ = time.Parse(time.RFC3339Nano, taskCreated)
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

// TimelineItem is a message in a contact's history across channels.
type TimelineItem struct {
	backend.Message
	Channel string `json:"channel"`
}

// Detail is one conversation with its contact, its messages, the contact's
// whole history across channels and the open task, if any.
type Detail struct {
	Conversation Summary           `json:"conversation"`
	Contact      backend.Contact   `json:"contact"`
	Messages     []backend.Message `json:"messages"`
	// Timeline is every message of the contact, in every conversation on
	// every channel, oldest first.
	Timeline []TimelineItem `json:"timeline"`
	// ContactConversations are the contact's conversations, newest first.
	ContactConversations []Summary     `json:"contactConversations"`
	Task                 *backend.Task `json:"task,omitempty"`
}

// Conversation returns one cached conversation. Returns ENotFound.
func (c *Cache) Conversation(ctx context.Context, id string) (*Detail, error) {
	var contactID string
	if err := c.db.QueryRowContext(ctx, `SELECT contact_id FROM conversations WHERE id = ?`, id).Scan(&contactID); errors.Is(err, sql.ErrNoRows) {
		return nil, backend.Errorf(backend.ENotFound, "Conversation %s is not in this computer's cache.", id)
	} else if err != nil {
		return nil, err
	}
	var d Detail
	var err error
	if d.ContactConversations, err = c.Conversations(ctx, Filter{ContactID: contactID}); err != nil {
		return nil, err
	}
	for _, s := range d.ContactConversations {
		if s.ID == id {
			d.Conversation = s
		}
	}
	var contactData string
	if err := c.db.QueryRowContext(ctx, `SELECT data FROM contacts WHERE id = ?`, contactID).Scan(&contactData); err == nil {
		if err := json.Unmarshal([]byte(contactData), &d.Contact); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if d.Messages, err = c.messages(ctx, id); err != nil {
		return nil, err
	}
	if d.Timeline, err = c.timeline(ctx, contactID); err != nil {
		return nil, err
	}
	if d.Task, err = c.OpenTask(ctx, id); err != nil {
		return nil, err
	}
	return &d, nil
}

func (c *Cache) timeline(ctx context.Context, contactID string) ([]TimelineItem, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT m.data, cv.channel FROM messages m JOIN conversations cv ON cv.id = m.conversation_id
		WHERE cv.contact_id = ? ORDER BY m.created_at, m.rowid`, contactID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TimelineItem{}
	for rows.Next() {
		var data string
		var it TimelineItem
		if err := rows.Scan(&data, &it.Channel); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &it.Message); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
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
