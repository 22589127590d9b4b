-- Voice: SIP trunks (configured by admins) and calls. A call belongs to a
-- conversation; its timeline notes are messages of that conversation.
CREATE TABLE voice_trunks (
	name       TEXT PRIMARY KEY,
	config     TEXT NOT NULL,
	enabled    INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE calls (
	id              TEXT PRIMARY KEY,
	conversation_id TEXT NOT NULL REFERENCES conversations (id),
	state           TEXT NOT NULL,
	data            TEXT NOT NULL,
	started_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL
);
CREATE INDEX calls_conversation ON calls (conversation_id);
-- Only live calls are looked up by state (to end them after a crash).
CREATE INDEX calls_live ON calls (state) WHERE state <> 'ended';
