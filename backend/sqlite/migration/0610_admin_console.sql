-- The admin console: who changed which setting when, labels on
-- conversations, one-time invitations, removable workers, and indexes for
-- the channel list's health figures.
CREATE TABLE audit_log (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	at          TEXT NOT NULL,
	user_id     TEXT NOT NULL,
	user_name   TEXT NOT NULL,
	action      TEXT NOT NULL,
	entity_type TEXT NOT NULL,
	entity_id   TEXT NOT NULL,
	summary     TEXT NOT NULL,
	details     TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE labels (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
	color       TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '',
	updated_at  TEXT NOT NULL
);
-- A conversation's label ids, as a JSON array.
ALTER TABLE conversations ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';

-- One-time invitations: only a hash of each token is kept.
CREATE TABLE invites (
	token_hash  TEXT PRIMARY KEY,
	id          TEXT NOT NULL UNIQUE,
	email       TEXT NOT NULL COLLATE NOCASE,
	name        TEXT NOT NULL,
	role        TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
	invited_by  TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	expires_at  TEXT NOT NULL,
	accepted_at TEXT NOT NULL DEFAULT '',
	user_id     TEXT NOT NULL DEFAULT ''
);

-- A removed worker keeps its row (past reservations name it) but leaves
-- routing; its user may get a new worker.
ALTER TABLE routing_workers ADD COLUMN deleted_at TEXT NOT NULL DEFAULT '';

CREATE INDEX messages_instance_inbound ON messages (channel, instance, direction, created_at);
CREATE INDEX channel_outbox_instance ON channel_outbox (connector, instance, state, updated_at);

-- Claimed by the first-run setup while it creates the first admin, so two
-- people opening a new workspace at once cannot both become its admin.
CREATE TABLE first_run (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	claimed_at TEXT NOT NULL
);
