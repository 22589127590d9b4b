package storetx

import (
	"context"

	"switchboard/backend"
)

// OutboxTx is the steps that settle the channel outbox's jobs.
type OutboxTx interface {
	MessageTx
	// OutboxMessageID returns the message of an outbox job, or ENotFound.
	OutboxMessageID(ctx context.Context, id string) (string, error)
	// MarkOutboxSent records that the job was sent, with the platform's id
	// of the message.
	MarkOutboxSent(ctx context.Context, id, externalID string) error
	// MarkOutboxFailed records that the job failed for good, and why.
	MarkOutboxFailed(ctx context.Context, id, reason string) error
	// SetExternalID writes the platform's id of a message.
	SetExternalID(ctx context.Context, messageID, externalID string) error
	// TouchMessage writes m's update time.
	TouchMessage(ctx context.Context, m *backend.Message) error
}

// outboxMessage returns the message of an outbox job, kept from other
// writers until the commit.
func outboxMessage(ctx context.Context, tx OutboxTx, id string) (*backend.Message, error) {
	msgID, err := tx.OutboxMessageID(ctx, id)
	if err != nil {
		return nil, err
	}
	return tx.MessageForUpdate(ctx, msgID)
}

// CompleteOutbox records that a job was sent: the message gets the
// platform's id and moves forward to status (the feed hears of the id
// even when the status does not move).
func CompleteOutbox(ctx context.Context, tx OutboxTx, id, externalID, status string) (*backend.Message, error) {
	m, err := outboxMessage(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := tx.MarkOutboxSent(ctx, id, externalID); err != nil {
		return m, err
	}
	if externalID != "" && m.ExternalID == "" {
		m.ExternalID = externalID
		if err := tx.SetExternalID(ctx, m.ID, externalID); err != nil {
			return m, err
		}
	}
	if backend.DeliveryRank(status) <= backend.DeliveryRank(m.Status) {
		// The id alone changed (or nothing): still tell the feed.
		m.UpdatedAt = tx.Now()
		if err := tx.TouchMessage(ctx, m); err != nil {
			return m, err
		}
		return m, tx.AppendEvent(ctx, backend.EventMessageUpserted, m.ID, m)
	}
	return m, SetStatus(ctx, tx, m, status, "")
}

// FailOutbox records that a job failed for good, and its message with it.
func FailOutbox(ctx context.Context, tx OutboxTx, id, reason string) (*backend.Message, error) {
	m, err := outboxMessage(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := tx.MarkOutboxFailed(ctx, id, reason); err != nil {
		return m, err
	}
	return m, SetStatus(ctx, tx, m, backend.DeliveryFailed, reason)
}
