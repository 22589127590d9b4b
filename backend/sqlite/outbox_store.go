package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"switchboard/backend"
	"switchboard/backend/internal/storekit"
	"switchboard/backend/internal/storetx"
)

// outboxCursor names the cursor over messages that EnqueueOutbox advances.
const outboxCursor = "outbox.enqueue"

// enqueueOutboxQuery finds the queued outbound messages of configured
// instances stored after the cursor; the partial index holds only those.
const enqueueOutboxQuery = `SELECT m.rowid, m.id, m.conversation_id, m.channel, m.instance, m.author_id <> '' FROM messages AS m
	JOIN channel_instances AS ci ON ci.connector = m.channel AND ci.instance = m.instance
	WHERE m.rowid > ? AND m.rowid <= ? AND m.direction = 'out' AND m.private = 0 AND m.status = 'queued'
	ORDER BY m.rowid`

// EnqueueOutbox implements backend.ChannelService.
func (db *DB) EnqueueOutbox(ctx context.Context, now time.Time) (int, error) {
	// Nothing stored since the last pass needs no write transaction.
	var fresh bool
	if err := db.r.QueryRowContext(ctx, `SELECT COALESCE((SELECT MAX(rowid) FROM messages), 0) >
		COALESCE((SELECT value FROM channel_cursors WHERE name = ?), 0)`, outboxCursor).Scan(&fresh); err != nil {
		return 0, fmt.Errorf("enqueue outbox: %w", err)
	} else if !fresh {
		return 0, nil
	}
	n := 0
	err := db.update(ctx, func(tx *Tx) error {
		cursor, err := channelCursor(ctx, tx, outboxCursor)
		if err != nil {
			return err
		}
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(rowid), 0) FROM messages`).Scan(&last); err != nil {
			return fmt.Errorf("enqueue outbox: %w", err)
		}
		if last <= cursor {
			return nil
		}
		rows, err := tx.QueryContext(ctx, enqueueOutboxQuery, cursor, last)
		if err != nil {
			return fmt.Errorf("enqueue outbox: %w", err)
		}
		type item struct {
			seq                            int64
			msg, conv, connector, instance string
			person                         bool
		}
		var items []item
		for rows.Next() {
			var it item
			if err := rows.Scan(&it.seq, &it.msg, &it.conv, &it.connector, &it.instance, &it.person); err != nil {
				rows.Close()
				return err
			}
			items = append(items, it)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, it := range items {
			// A person's reply (priority 0) goes before bot messages (1).
			priority := 1
			if it.person {
				priority = 0
			}
			res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO channel_outbox (id, seq, message_id, conversation_id, connector, instance,
				idempotency_key, state, next_attempt_at, created_at, updated_at, priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				backend.NewID("ob"), it.seq, it.msg, it.conv, it.connector, it.instance, newUUID(), backend.OutboxPending,
				formatTime(now), formatTime(tx.Now()), formatTime(tx.Now()), priority)
			if err != nil {
				return fmt.Errorf("enqueue outbox: %w", err)
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return setChannelCursor(ctx, tx, outboxCursor, last)
	})
	return n, err
}

// newUUID returns a random RFC 4122 version 4 UUID (LINE's retry key needs one).
var newUUID = storekit.NewUUID

// InterruptOutbox implements backend.ChannelService.
func (db *DB) InterruptOutbox(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := db.update(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE channel_outbox SET lease_until = ?, updated_at = ? WHERE state = 'sending' AND lease_until > ?`,
			formatTime(now), formatTime(tx.Now()), formatTime(now))
		if err != nil {
			return fmt.Errorf("interrupt outbox: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// claimOutboxQuery finds due jobs, each the oldest open one of its
// conversation. It reads only open jobs (the partial indexes), however
// many were sent before.
const claimOutboxQuery = `SELECT o.id, o.idempotency_key, o.message_id, o.conversation_id, o.state, o.attempts
	FROM channel_outbox AS o
	WHERE o.state IN ('pending', 'sending')
	AND ((o.state = 'pending' AND o.next_attempt_at <= ?) OR (o.state = 'sending' AND o.lease_until <= ?))
	AND NOT EXISTS (SELECT 1 FROM channel_outbox AS p WHERE p.conversation_id = o.conversation_id
		AND p.state IN ('pending', 'sending') AND p.seq < o.seq)
	ORDER BY o.priority, o.seq LIMIT ?`

// ClaimOutbox implements backend.ChannelService.
func (db *DB) ClaimOutbox(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*backend.OutboxJob, error) {
	if limit <= 0 {
		limit = 100
	}
	var jobs []*backend.OutboxJob
	err := db.update(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, claimOutboxQuery, formatTime(now), formatTime(now), limit)
		if err != nil {
			return fmt.Errorf("claim outbox: %w", err)
		}
		type claimed struct {
			job        *backend.OutboxJob
			msg, conv  string
			wasSending bool
		}
		var cs []claimed
		for rows.Next() {
			var c claimed
			var state string
			c.job = &backend.OutboxJob{}
			if err := rows.Scan(&c.job.ID, &c.job.IdempotencyKey, &c.msg, &c.conv, &state, &c.job.Attempts); err != nil {
				rows.Close()
				return err
			}
			c.wasSending = state == backend.OutboxSending
			cs = append(cs, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range cs { // before any claim below moves them to this batch
			if c.wasSending {
				if c.job.InDoubt, err = sendMayHaveStarted(ctx, tx, c.job.ID); err != nil {
					return err
				}
			}
		}
		batch := storekit.ClaimBatch()
		for rank, c := range cs {
			j := c.job
			if !c.wasSending || j.InDoubt {
				j.Attempts++ // a claim whose send never started was counted already
			}
			if _, err := tx.ExecContext(ctx, `UPDATE channel_outbox SET state = 'sending', attempts = ?, lease_until = ?, claim_batch = ?, claim_rank = ?, updated_at = ?
				WHERE id = ?`, j.Attempts, formatTime(leaseUntil), batch, rank, formatTime(tx.Now()), j.ID); err != nil {
				return fmt.Errorf("claim outbox: %w", err)
			}
			if j.Message, err = findMessage(ctx, tx, `id = ?`, c.msg); err != nil {
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

// The hub sends the jobs of one claim in the order returned, one instance's
// at a time, and records each outcome before that instance's next send. So
// a job whose claim is over (its process died) may have reached the
// platform only if no earlier job of its instance in the same claim is
// still sending: those after it never started and are not in doubt.

// sendMayHaveStarted reports whether the interrupted send of job id may
// have reached the platform.
func sendMayHaveStarted(ctx context.Context, tx *Tx, id string) (bool, error) {
	var earlier bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM channel_outbox AS o JOIN channel_outbox AS p
		ON p.state = 'sending' AND p.claim_batch = o.claim_batch AND p.connector = o.connector AND p.instance = o.instance
			AND p.claim_rank < o.claim_rank
		WHERE o.id = ? AND o.claim_batch <> 0)`, id).Scan(&earlier)
	if err != nil {
		return false, fmt.Errorf("claim outbox: %w", err)
	}
	return !earlier, nil
}

// lastInbound returns the conversation's newest inbound message reference.
func lastInbound(ctx context.Context, q queryer, conversationID string) (*backend.InboundRef, error) {
	var ref backend.InboundRef
	var raw, platformAt, created string
	err := q.QueryRowContext(ctx, `SELECT COALESCE(external_id, ''), raw, platform_at, created_at FROM messages
		WHERE conversation_id = ? AND direction = 'in' ORDER BY rowid DESC LIMIT 1`, conversationID).
		Scan(&ref.ExternalID, &raw, &platformAt, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("last inbound: %w", err)
	}
	if raw != "" {
		ref.Raw = json.RawMessage(raw)
	}
	ref.PlatformAt, ref.CreatedAt = parseTime(platformAt), parseTime(created)
	return &ref, nil
}

var _ storetx.OutboxTx = steps{}

// OutboxMessageID implements storetx.OutboxTx.
func (s steps) OutboxMessageID(ctx context.Context, id string) (string, error) {
	var msgID string
	if err := s.QueryRowContext(ctx, `SELECT message_id FROM channel_outbox WHERE id = ?`, id).Scan(&msgID); errors.Is(err, sql.ErrNoRows) {
		return "", backend.Errorf(backend.ENotFound, "Outbox job %s does not exist.", id)
	} else if err != nil {
		return "", fmt.Errorf("outbox job: %w", err)
	}
	return msgID, nil
}

// MarkOutboxSent implements storetx.OutboxTx.
func (s steps) MarkOutboxSent(ctx context.Context, id, externalID string) error {
	if _, err := s.ExecContext(ctx, `UPDATE channel_outbox SET state = 'sent', external_id = ?, lease_until = '', last_error = '', updated_at = ? WHERE id = ?`,
		externalID, formatTime(s.Now()), id); err != nil {
		return fmt.Errorf("complete outbox: %w", err)
	}
	return nil
}

// SetExternalID implements storetx.OutboxTx.
func (s steps) SetExternalID(ctx context.Context, messageID, externalID string) error {
	if _, err := s.ExecContext(ctx, `UPDATE messages SET external_id = ? WHERE id = ?`, externalID, messageID); err != nil {
		return fmt.Errorf("complete outbox: %w", err)
	}
	return nil
}

// TouchMessage implements storetx.OutboxTx.
func (s steps) TouchMessage(ctx context.Context, m *backend.Message) error {
	if _, err := s.ExecContext(ctx, `UPDATE messages SET updated_at = ? WHERE id = ?`, formatTime(m.UpdatedAt), m.ID); err != nil {
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
		res, err := tx.ExecContext(ctx, `UPDATE channel_outbox SET state = 'pending', next_attempt_at = ?, lease_until = '',
			last_error = CASE WHEN ? = '' THEN last_error ELSE ? END, attempts = MAX(attempts - ?, 0), updated_at = ? WHERE id = ?`,
			formatTime(at), reason, reason, undo, formatTime(tx.Now()), id)
		if err != nil {
			return fmt.Errorf("retry outbox: %w", err)
		} else if n, _ := res.RowsAffected(); n == 0 {
			return backend.Errorf(backend.ENotFound, "Outbox job %s does not exist.", id)
		}
		return nil
	})
}

// MarkOutboxFailed implements storetx.OutboxTx.
func (s steps) MarkOutboxFailed(ctx context.Context, id, reason string) error {
	if _, err := s.ExecContext(ctx, `UPDATE channel_outbox SET state = 'failed', lease_until = '', last_error = ?, updated_at = ? WHERE id = ?`,
		reason, formatTime(s.Now()), id); err != nil {
		return fmt.Errorf("fail outbox: %w", err)
	}
	return nil
}

// nextOutboxDueQuery reads the soonest attempt and lease from the open
// jobs' partial indexes.
const nextOutboxDueQuery = `SELECT MIN(t) FROM (
	SELECT MIN(next_attempt_at) AS t FROM channel_outbox WHERE state = 'pending'
	UNION ALL SELECT MIN(lease_until) FROM channel_outbox WHERE state = 'sending')`

// NextOutboxDue implements backend.ChannelService.
func (db *DB) NextOutboxDue(ctx context.Context) (time.Time, bool, error) {
	var at sql.NullString
	err := db.r.QueryRowContext(ctx, nextOutboxDueQuery).Scan(&at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next outbox due: %w", err)
	}
	if !at.Valid || at.String == "" {
		return time.Time{}, false, nil
	}
	return parseTime(at.String), true, nil
}
