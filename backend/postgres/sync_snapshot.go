package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"switchboard/backend"
	"switchboard/backend/internal/storetx"
)

var _ backend.SnapshotService = (*DB)(nil)

// fromLog is the condition on an event's type that a snapshot takes from
// the log; the partial index events_entity (migration 0800) is on it.
var fromLog = "type NOT IN ('" + strings.Join(backend.SnapshotTableTypes, "', '") + "')"

// SyncSnapshot implements backend.SnapshotService in one repeatable-read
// transaction.
func (db *DB) SyncSnapshot(ctx context.Context, req backend.SnapshotRequest, sink backend.SnapshotSink) error {
	tx, err := db.pool.BeginTx(ctx, pgxReadOnly)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	return storetx.SyncSnapshot(ctx, syncSnapshot{snapshot{tx}}, req, sink)
}

// syncSnapshot reads a sync snapshot through one read transaction.
type syncSnapshot struct{ snapshot }

var _ storetx.SyncSnapshotReader = syncSnapshot{}

// LastSeq implements storetx.SyncSnapshotReader.
func (r syncSnapshot) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := r.q.QueryRow(ctx, `SELECT last FROM event_counter WHERE id = 1`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("last seq: %w", err)
	}
	return seq, nil
}

// SnapshotConversations implements storetx.SyncSnapshotReader.
func (r syncSnapshot) SnapshotConversations(ctx context.Context, readerID string) ([]string, map[string]string, error) {
	if readerID == "" {
		ids, err := stringList(ctx, r.q, `SELECT id FROM conversations ORDER BY last_message_at DESC, id`)
		return ids, nil, err
	}
	readable, err := readableConversations(ctx, r.q, readerID)
	if err != nil {
		return nil, nil, err
	}
	ids, err := stringList(ctx, r.q, `SELECT id FROM conversations WHERE id = ANY ($1) ORDER BY last_message_at DESC, id`,
		slices.Collect(maps.Keys(readable)))
	return ids, readable, err
}

// LatestEvents implements storetx.SyncSnapshotReader.
func (r syncSnapshot) LatestEvents(ctx context.Context, seq int64, emit func(backend.Event) error) error {
	rows, err := r.q.Query(ctx, `SELECT seq, type, entity_id, data::text, created_at FROM events
		WHERE seq IN (SELECT MAX(seq) FROM events WHERE `+fromLog+` AND seq <= $1 GROUP BY type, entity_id)
		ORDER BY seq`, seq)
	if err != nil {
		return fmt.Errorf("latest events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e backend.Event
		var data string
		if err := rows.Scan(&e.Seq, &e.Type, &e.EntityID, &data, at{&e.CreatedAt}); err != nil {
			return err
		}
		e.Data = json.RawMessage(data)
		if err := emit(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ConversationsByID implements storetx.SyncSnapshotReader.
func (r syncSnapshot) ConversationsByID(ctx context.Context, ids []string) ([]*backend.Conversation, error) {
	out, err := collect(ctx, r.q, scanConversation, `SELECT `+conversationColumns+` FROM conversations WHERE id = ANY ($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("snapshot conversations: %w", err)
	}
	return out, nil
}

// ContactsByID implements storetx.SyncSnapshotReader.
func (r syncSnapshot) ContactsByID(ctx context.Context, ids []string) ([]*backend.Contact, error) {
	out, err := collect(ctx, r.q, scanContact, `SELECT `+contactColumns+` FROM contacts WHERE id = ANY ($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("snapshot contacts: %w", err)
	}
	byID := make(map[string]*backend.Contact, len(out))
	for _, c := range out {
		byID[c.ID] = c
	}
	identities, err := collect(ctx, r.q, func(s scanner) (backend.Identity, error) {
		var i backend.Identity
		return i, s.Scan(&i.ContactID, &i.Channel, &i.ExternalID, &i.DisplayName)
	}, `SELECT contact_id, channel, external_id, display_name FROM identities WHERE contact_id = ANY ($1)
		ORDER BY contact_id, created_at, channel`, ids)
	if err != nil {
		return nil, fmt.Errorf("snapshot identities: %w", err)
	}
	for _, i := range identities {
		if c := byID[i.ContactID]; c != nil {
			c.Identities = append(c.Identities, i)
		}
	}
	return out, nil
}

// RecentMessagesOf implements storetx.SyncSnapshotReader: for each
// conversation, its newest n messages through the index on
// (conversation_id, created_at), in one query.
func (r syncSnapshot) RecentMessagesOf(ctx context.Context, ids []string, n int) ([]*backend.Message, error) {
	out, err := collect(ctx, r.q, messageScan, `SELECT `+messageColumns+` FROM unnest($1::text[]) AS c (conv)
		CROSS JOIN LATERAL (SELECT * FROM messages WHERE conversation_id = c.conv
			ORDER BY created_at DESC, pos DESC NULLS FIRST, id DESC LIMIT $2) m
		ORDER BY m.conversation_id, m.created_at, m.pos NULLS LAST, m.id`, ids, n)
	if err != nil {
		return nil, fmt.Errorf("recent messages: %w", err)
	}
	return out, nil
}

// FlowExecutionsOf implements storetx.SyncSnapshotReader.
func (r syncSnapshot) FlowExecutionsOf(ctx context.Context, ids []string) ([]*backend.FlowExecution, error) {
	out, err := collect(ctx, r.q, scanFlowExecution, `SELECT data, version FROM flow_executions WHERE conversation_id = ANY ($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("snapshot flow executions: %w", err)
	}
	return out, nil
}

// ContactIDs implements storetx.SyncSnapshotReader.
func (r syncSnapshot) ContactIDs(ctx context.Context) ([]string, error) {
	ids, err := stringList(ctx, r.q, `SELECT id FROM contacts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	return ids, nil
}
