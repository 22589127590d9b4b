-- Configured accounts of channel connectors (two SMS numbers, three LINE
-- bots…). config holds the connector's JSON, secrets included.
CREATE TABLE channel_instances (
	connector  TEXT NOT NULL,
	instance   TEXT NOT NULL,
	config     TEXT NOT NULL DEFAULT '{}',
	enabled    INTEGER NOT NULL DEFAULT 1,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	PRIMARY KEY (connector, instance)
);

-- Named durable cursors over the messages table (rowid): the inbound
-- dispatcher and the outbox enqueuer resume from them after a restart.
CREATE TABLE channel_cursors (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);

-- The outbox: one row per outbound message on its way to a platform. The
-- idempotency key is stable across retries; seq orders a conversation's jobs.
CREATE TABLE channel_outbox (
	id              TEXT PRIMARY KEY,
	seq             INTEGER NOT NULL UNIQUE,
	message_id      TEXT NOT NULL UNIQUE REFERENCES messages (id),
	conversation_id TEXT NOT NULL REFERENCES conversations (id),
	connector       TEXT NOT NULL,
	instance        TEXT NOT NULL,
	idempotency_key TEXT NOT NULL UNIQUE,
	state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at TEXT NOT NULL,
	lease_until     TEXT NOT NULL DEFAULT '',
	last_error      TEXT NOT NULL DEFAULT '',
	external_id     TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL
);
CREATE INDEX channel_outbox_due ON channel_outbox (state, next_attempt_at);
CREATE INDEX channel_outbox_conversation ON channel_outbox (conversation_id, state, seq);
