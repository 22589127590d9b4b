package backend

import (
	"context"
	"encoding/json"
	"time"
)

// ChannelInstance is one configured account of a channel connector, such as
// one Twilio number or one LINE bot. (Connector, Instance) is unique.
type ChannelInstance struct {
	// Connector is the connector id, such as "sms.twilio".
	Connector string `json:"connector"`
	// Instance names this account within the workspace, such as "main".
	Instance string `json:"instance"`
	// Config is the connector's own JSON configuration. It holds secrets:
	// never log it or return it unredacted.
	Config    json.RawMessage `json:"config"`
	Enabled   bool            `json:"enabled"`
	CreatedAt time.Time       `json:"createdAt"`
	UpdatedAt time.Time       `json:"updatedAt"`
}

// UploadQuota bounds the files anonymous visitors may upload to a web chat
// instance: bytes per visitor and per instance since a moment (the start of
// the quota window). Zero means no bound.
type UploadQuota struct {
	Since                    time.Time
	VisitorBytes, TotalBytes int64
}

// Outbox states of an outbound message on its way to a platform.
const (
	OutboxPending = "pending"
	OutboxSending = "sending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
)

// OutboxJob is one outbound message claimed for delivery, with what a
// connector needs to send it.
type OutboxJob struct {
	// ID is the outbox row id.
	ID string
	// IdempotencyKey is stable across retries of this message; connectors
	// pass it to platforms that deduplicate on such a key.
	IdempotencyKey string
	Message        *Message
	Conversation   *Conversation
	// LastInbound is the conversation's newest inbound message (nil when
	// there is none); connectors read reply tokens and 24-hour windows from it.
	LastInbound *InboundRef
	// Attempts counts delivery attempts including this one.
	Attempts int
	// InDoubt is true when an earlier attempt was interrupted after the
	// request may have reached the platform.
	InDoubt bool
}

// InboundRef is what an outbound send may need to know about the message it
// answers.
type InboundRef struct {
	ExternalID string
	Raw        json.RawMessage
	PlatformAt time.Time
	CreatedAt  time.Time
}

// ChannelService is what the channel framework keeps in the store besides
// messages: configured instances, the outbox and the inbound cursor.
type ChannelService interface {
	// PutChannelInstance creates or replaces an instance. Returns EInvalid
	// for an empty connector or instance name.
	PutChannelInstance(ctx context.Context, ci *ChannelInstance) error
	// FindChannelInstance returns one instance. Returns ENotFound.
	FindChannelInstance(ctx context.Context, connector, instance string) (*ChannelInstance, error)
	// FindChannelInstances lists every instance ordered by connector and name.
	FindChannelInstances(ctx context.Context) ([]*ChannelInstance, error)
	// DeleteChannelInstance removes an instance. Returns ENotFound.
	DeleteChannelInstance(ctx context.Context, connector, instance string) error

	// FindMessageByExternalID returns the message a platform knows by
	// externalID on one instance, in either direction. Returns ENotFound.
	FindMessageByExternalID(ctx context.Context, channel, instance, externalID string) (*Message, error)
	// SetThreadDeliveryStatus moves every outbound message of the thread
	// created at or before `before` forward to status (read receipts that
	// carry a watermark). It returns the messages that changed.
	SetThreadDeliveryStatus(ctx context.Context, channel, instance, threadKey, status string, before time.Time) ([]*Message, error)

	// InboundAfter returns up to limit inbound messages of configured
	// channel instances stored after cursor, oldest first, with the cursor
	// of each.
	InboundAfter(ctx context.Context, cursor int64, limit int) ([]*Message, []int64, error)
	// ChannelCursor returns a named durable cursor (0 when unset).
	ChannelCursor(ctx context.Context, name string) (int64, error)
	// SetChannelCursor stores a named durable cursor.
	SetChannelCursor(ctx context.Context, name string, v int64) error

	// EnqueueOutbox adds every outbound, non-private message of a configured
	// instance stored since the last call to the outbox, due at now. A
	// person's reply is marked to go before bot messages. It returns how
	// many were added.
	EnqueueOutbox(ctx context.Context, now time.Time) (int, error)
	// ClaimOutbox marks up to limit due jobs as sending until leaseUntil and
	// returns them. A job is due when pending with its attempt time reached,
	// or sending with an expired lease. People's replies come before bot
	// messages, then the oldest first; jobs of one conversation are claimed
	// in order, one at a time. The caller sends one instance's jobs in the
	// order returned, recording each outcome before that instance's next
	// send; so a job whose lease expired is InDoubt only when no earlier job
	// of its instance in the same claim is still sending (the later ones
	// never started, and their attempt is not counted again).
	ClaimOutbox(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*OutboxJob, error)
	// CompleteOutbox records a send the platform accepted: the job is sent,
	// the message gets the platform's id and moves forward to status.
	CompleteOutbox(ctx context.Context, id, externalID, status string) (*Message, error)
	// RetryOutbox puts a job back as pending until at. With countAttempt
	// false the claim does not count as an attempt (rate limiting).
	RetryOutbox(ctx context.Context, id string, at time.Time, reason string, countAttempt bool) error
	// FailOutbox marks a job and its message failed with the reason.
	FailOutbox(ctx context.Context, id, reason string) (*Message, error)
	// InterruptOutbox ends the lease of every job being sent, so the next
	// claim takes each as interrupted (InDoubt). An engine that is its
	// store's only sender calls it when it starts: those sends belonged to
	// a process that died. It returns how many there were.
	InterruptOutbox(ctx context.Context, now time.Time) (int, error)
	// NextOutboxDue returns when the next pending job is due (ok false when
	// none is pending).
	NextOutboxDue(ctx context.Context) (at time.Time, ok bool, err error)

	// PollerState returns what an instance's poller saved last (its
	// platform cursor or session: Telegram's offset, the IMAP UIDs, the
	// Discord session), nil when nothing was saved.
	PollerState(ctx context.Context, connector, instance string) ([]byte, error)
	// SavePollerState stores an instance's poller state durably.
	SavePollerState(ctx context.Context, connector, instance string, state []byte) error
}
