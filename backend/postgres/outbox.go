package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
)

// outboxCursor names the cursor over messages that EnqueueOutbox advances.
const outboxCursor = "outbox.enqueue"

// EnqueueOutbox implements backend.ChannelService. Nodes enqueue one at a
// time (the cursor row is locked), and a message is enqueued once.
func (db *DB) EnqueueOutbox(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := db.update(ctx, func(tx *Tx) error {
		n = 0
		var cursor, last int64
		if _, err := tx.Exec(ctx, `INSERT INTO channel_cursors (name, value) VALUES ($1, 0) ON CONFLICT DO NOTHING`, outboxCursor); err != nil {
			return fmt.Errorf("enqueue outbox: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT value, (SELECT COALESCE(MAX(pos), 0) FROM messages) FROM channel_cursors WHERE name = $1 FOR UPDATE`,
			outboxCursor).Scan(&cursor, &last); err != nil {
			return fmt.Errorf("enqueue outbox: %w", err)
		}
		if last <= cursor {
			return nil
		}
		type item struct{ msg, conv, connector, instance string }
		var pos []int64
		var priority []int16
		items, err := collect(ctx, tx, func(s scanner) (item, error) {
			var it item
			var p int64
			var person bool
			err := s.Scan(&p, &it.msg, &it.conv, &it.connector, &it.instance, &person)
			// A person's reply (priority 0) goes before bot messages (1).
			pr := int16(1)
			if person {
				pr = 0
			}
			pos, priority = append(pos, p), append(priority, pr)
			return it, err
		}, `SELECT m.pos, m.id, m.conversation_id, m.channel, m.instance, m.author_id <> '' FROM messages AS m
			JOIN channel_instances AS ci ON ci.connector = m.channel AND ci.instance = m.instance
			WHERE m.pos > $1 AND m.pos <= $2 AND m.direction = 'out' AND NOT m.private AND m.status = $3
			ORDER BY m.pos`, cursor, last, backend.DeliveryQueued)
		if err != nil {
			return fmt.Errorf("enqueue outbox: %w", err)
		}
		if len(items) > 0 {
			ids, keys, msgs, convs, connectors, instances := make([]string, len(items)), make([]string, len(items)),
				make([]string, len(items)), make([]string, len(items)), make([]string, len(items)), make([]string, len(items))
			for i, it := range items {
				ids[i], keys[i] = backend.NewID("ob"), storekit.NewUUID()
				msgs[i], convs[i], connectors[i], instances[i] = it.msg, it.conv, it.connector, it.instance
			}
			tag, err := tx.Exec(ctx, `INSERT INTO channel_outbox (id, seq, message_id, conversation_id, connector, instance,
				idempotency_key, state, next_attempt_at, created_at, updated_at, priority)
				SELECT i, s, m, c, cn, ins, k, 'pending', $8, $9, $9, pr
				FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $10::smallint[])
					AS x (i, s, m, c, cn, ins, k, pr)
				ON CONFLICT (message_id) DO NOTHING`, ids, pos, msgs, convs, connectors, instances, keys, now, tx.Now(), priority)
			if err != nil {
				return fmt.Errorf("enqueue outbox: %w", err)
			}
			n = int(tag.RowsAffected())
		}
		return setChannelCursor(ctx, tx, outboxCursor, last)
	})
	return n, err
}

// InterruptOutbox implements backend.ChannelService: it ends the lease of
// every send under way on a node that is gone (on any node when it is the
// last: the store's only sender), and wakes the nodes to claim them.
func (db *DB) InterruptOutbox(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := db.update(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE channel_outbox SET lease_until = $1, updated_at = $2
			WHERE state = 'sending' AND lease_until > $1 AND (claimed_by IS NULL OR claimed_by NOT IN `+liveNodes+`)`, now, tx.Now())
		if err != nil {
			return fmt.Errorf("interrupt outbox: %w", err)
		}
		if n = tag.RowsAffected(); n > 0 {
			_, err = tx.Exec(ctx, `SELECT pg_notify('`+eventsChannel+`', '')`)
		}
		return err
	})
	if n > 0 {
		db.wake()
	}
	return int(n), err
}

// claimDue locks the due jobs that no other node is claiming (SKIP LOCKED),
// each conversation's first only, people's replies before bot messages,
// and marks them as sent by this node, numbered in the claim $6 in the
// order the hub sends them. A job under way on a node that is gone is due
// at once; it is in doubt unless an earlier job of its instance in its
// claim was still sending (then the hub never started it, and its attempt
// was counted already).
const claimDue = `WITH due AS (
		SELECT o.id, o.state AS was, o.priority, o.seq, o.connector, o.instance, o.claim_batch, o.claim_rank FROM channel_outbox AS o
		WHERE ((o.state = 'pending' AND o.next_attempt_at <= $1)
			OR (o.state = 'sending' AND (o.lease_until <= $1 OR o.claimed_by NOT IN ` + liveNodes + `)))
		AND NOT EXISTS (SELECT 1 FROM channel_outbox AS p WHERE p.conversation_id = o.conversation_id
			AND p.state IN ('pending', 'sending') AND p.seq < o.seq)
		ORDER BY o.priority, o.seq LIMIT $3 FOR UPDATE OF o SKIP LOCKED),
	claim AS (
		SELECT d.id, d.was = 'sending' AS was_sending,
			d.was = 'sending' AND NOT (d.claim_batch <> 0 AND EXISTS (SELECT 1 FROM channel_outbox AS p
				WHERE p.state = 'sending' AND p.claim_batch = d.claim_batch AND p.connector = d.connector
					AND p.instance = d.instance AND p.claim_rank < d.claim_rank)) AS in_doubt,
			row_number() OVER (ORDER BY d.priority, d.seq) - 1 AS rank
		FROM due AS d)
	UPDATE channel_outbox AS o SET state = 'sending',
		attempts = o.attempts + CASE WHEN claim.was_sending AND NOT claim.in_doubt THEN 0 ELSE 1 END,
		lease_until = $2, claimed_by = $4, updated_at = $5, claim_batch = $6, claim_rank = claim.rank
	FROM claim WHERE o.id = claim.id
	RETURNING o.id, o.idempotency_key, o.message_id, o.conversation_id, claim.in_doubt, o.attempts, o.priority, o.seq`

// ClaimOutbox implements backend.ChannelService.
func (db *DB) ClaimOutbox(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*backend.OutboxJob, error) {
	if limit <= 0 {
		limit = 100
	}
	var jobs []*backend.OutboxJob
	err := db.update(ctx, func(tx *Tx) error {
		type claimed struct {
			job       *backend.OutboxJob
			msg, conv string
			priority  int16
			seq       int64
		}
		cs, err := collect(ctx, tx, func(s scanner) (claimed, error) {
			c := claimed{job: &backend.OutboxJob{}}
			return c, s.Scan(&c.job.ID, &c.job.IdempotencyKey, &c.msg, &c.conv, &c.job.InDoubt, &c.job.Attempts, &c.priority, &c.seq)
		}, claimDue, now, leaseUntil, limit, db.node, tx.Now(), storekit.ClaimBatch())
		if err != nil {
			return fmt.Errorf("claim outbox: %w", err)
		}
		jobs = nil
		slices.SortFunc(cs, func(a, b claimed) int { // RETURNING keeps no order
			return cmp.Or(cmp.Compare(a.priority, b.priority), cmp.Compare(a.seq, b.seq))
		})
		for _, c := range cs {
			j := c.job
			if j.Message, err = findMessage(ctx, tx, `id = $1`, c.msg); err != nil {
				return err
			}
			if j.Conversation, err = findConversation(ctx, tx, c.conv); err != nil {
				return err
			}
			if j.LastInbound, err = lastInbound(ctx, tx, c.conv); err != nil {
				return err
			}
			jobs = append(jobs, j)
		}
		return nil
	})
	return jobs, err
}

// lastInbound returns the conversation's newest inbound message reference.
func lastInbound(ctx context.Context, q querier, conversationID string) (*backend.InboundRef, error) {
	var ref backend.InboundRef
	var raw string
	err := q.QueryRow(ctx, `SELECT COALESCE(external_id, ''), raw, platform_at, created_at FROM messages
		WHERE conversation_id = $1 AND direction = 'in' ORDER BY pos DESC NULLS FIRST LIMIT 1`, conversationID).
		Scan(&ref.ExternalID, &raw, at{&ref.PlatformAt}, at{&ref.CreatedAt})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("last inbound: %w", err)
	}
	if raw != "" {
		ref.Raw = json.RawMessage(raw)
	}
	return &ref, nil
}

var _ storetx.OutboxTx = steps{}

// OutboxMessageID implements storetx.OutboxTx.
func (s steps) OutboxMessageID(ctx context.Context, id string) (string, error) {
	var msgID string
	if err := s.QueryRow(ctx, `SELECT message_id FROM channel_outbox WHERE id = $1`, id).Scan(&msgID); errors.Is(err, pgx.ErrNoRows) {
		return "", backend.Errorf(backend.ENotFound, "Outbox job %s does not exist.", id)
	} else if err != nil {
		return "", fmt.Errorf("outbox job: %w", err)
	}
	return msgID, nil
}

// MarkOutboxSent implements storetx.OutboxTx.
func (s steps) MarkOutboxSent(ctx context.Context, id, externalID string) error {
	if _, err := s.Exec(ctx, `UPDATE channel_outbox SET state = 'sent', external_id = $1, lease_until = NULL, last_error = '', updated_at = $2
		WHERE id = $3`, externalID, s.Now(), id); err != nil {
		return fmt.Errorf("complete outbox: %w", err)
	}
	return nil
}

// SetExternalID implements storetx.OutboxTx.
func (s steps) SetExternalID(ctx context.Context, messageID, externalID string) error {
	if _, err := s.Exec(ctx, `UPDATE messages SET external_id = $1 WHERE id = $2`, externalID, messageID); err != nil {
		return fmt.Errorf("complete outbox: %w", err)
	}
	return nil
}

// TouchMessage implements storetx.OutboxTx.
func (s steps) TouchMessage(ctx context.Context, m *backend.Message) error {
	if _, err := s.Exec(ctx, `UPDATE messages SET updated_at = $1 WHERE id = $2`, m.UpdatedAt, m.ID); err != nil {
		return fmt.Errorf("complete outbox: %w", err)
	}
	return nil
}

// RetryOutbox implements backend.ChannelService.
func (db *DB) RetryOutbox(ctx context.Context, id string, at time.Time, reason string, countAttempt bool) error {
	undo := 1
	if countAttempt {
		undo = 0
	}
	return db.update(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE channel_outbox SET state = 'pending', next_attempt_at = $1, lease_until = NULL,
			last_error = CASE WHEN $2 = '' THEN last_error ELSE $2 END, attempts = GREATEST(attempts - $3, 0), updated_at = $4 WHERE id = $5`,
			at, reason, undo, tx.Now(), id)
		if err != nil {
			return fmt.Errorf("retry outbox: %w", err)
		} else if tag.RowsAffected() == 0 {
			return backend.Errorf(backend.ENotFound, "Outbox job %s does not exist.", id)
		}
		return nil
	})
}

// MarkOutboxFailed implements storetx.OutboxTx.
func (s steps) MarkOutboxFailed(ctx context.Context, id, reason string) error {
	if _, err := s.Exec(ctx, `UPDATE channel_outbox SET state = 'failed', lease_until = NULL, last_error = $1, updated_at = $2 WHERE id = $3`,
		reason, s.Now(), id); err != nil {
		return fmt.Errorf("fail outbox: %w", err)
	}
	return nil
}

// NextOutboxDue implements backend.ChannelService.
func (db *DB) NextOutboxDue(ctx context.Context) (time.Time, bool, error) {
	var t time.Time
	err := db.pool.QueryRow(ctx, `SELECT LEAST(
		(SELECT MIN(next_attempt_at) FROM channel_outbox WHERE state = 'pending'),
		(SELECT MIN(lease_until) FROM channel_outbox WHERE state = 'sending'))`).Scan(at{&t})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next outbox due: %w", err)
	}
	return t, !t.IsZero(), nil
}
