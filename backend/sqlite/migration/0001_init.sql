-- Users who sign in, and their bearer sessions (only a hash of each token).
CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	name          TEXT NOT NULL,
	email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
	role          TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
	password_hash TEXT NOT NULL,
	created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
);

-- A contact is one customer; identities tie channel ids to them.
CREATE TABLE contacts (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL DEFAULT '',
	email       TEXT NOT NULL DEFAULT '',
	phone       TEXT NOT NULL DEFAULT '',
	attributes  TEXT NOT NULL DEFAULT '{}',
	merged_into TEXT REFERENCES contacts (id),
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);
CREATE INDEX contacts_phone ON contacts (phone) WHERE phone <> '';

CREATE TABLE identities (
	channel      TEXT NOT NULL,
	external_id  TEXT NOT NULL,
	contact_id   TEXT NOT NULL REFERENCES contacts (id),
	display_name TEXT NOT NULL DEFAULT '',
	created_at   TEXT NOT NULL,
	PRIMARY KEY (channel, external_id)
);
CREATE INDEX identities_contact ON identities (contact_id);

CREATE TABLE conversations (
	id                TEXT PRIMARY KEY,
	contact_id        TEXT NOT NULL REFERENCES contacts (id),
	channel           TEXT NOT NULL,
	instance          TEXT NOT NULL,
	thread_key        TEXT NOT NULL,
	status            TEXT NOT NULL,
	subject           TEXT NOT NULL DEFAULT '',
	assignee_id       TEXT NOT NULL DEFAULT '',
	last_message_at   TEXT NOT NULL,
	last_message_text TEXT NOT NULL DEFAULT '',
	created_at        TEXT NOT NULL,
	updated_at        TEXT NOT NULL
);
CREATE INDEX conversations_thread ON conversations (channel, instance, thread_key, status);
CREATE INDEX conversations_contact ON conversations (contact_id);
CREATE INDEX conversations_recent ON conversations (last_message_at);

CREATE TABLE messages (
	id              TEXT PRIMARY KEY,
	conversation_id TEXT NOT NULL REFERENCES conversations (id),
	contact_id      TEXT NOT NULL REFERENCES contacts (id),
	channel         TEXT NOT NULL,
	instance        TEXT NOT NULL,
	direction       TEXT NOT NULL CHECK (direction IN ('in', 'out')),
	author_id       TEXT NOT NULL DEFAULT '',
	author_name     TEXT NOT NULL DEFAULT '',
	text            TEXT NOT NULL DEFAULT '',
	private         INTEGER NOT NULL DEFAULT 0,
	attachments     TEXT NOT NULL DEFAULT '[]',
	external_id     TEXT,
	client_id       TEXT,
	status          TEXT NOT NULL,
	error           TEXT NOT NULL DEFAULT '',
	platform_at     TEXT NOT NULL DEFAULT '',
	raw             TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX messages_external ON messages (channel, instance, external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX messages_client ON messages (client_id) WHERE client_id IS NOT NULL;
CREATE INDEX messages_conversation ON messages (conversation_id, created_at);
CREATE INDEX messages_contact ON messages (contact_id);

-- Full-text search over message text (external content: no second copy).
CREATE VIRTUAL TABLE messages_fts USING fts5 (text, content = 'messages', content_rowid = 'rowid');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
	INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
	INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;

-- The change feed: every state change a desktop must see, in commit order.
CREATE TABLE events (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	type       TEXT NOT NULL,
	entity_id  TEXT NOT NULL,
	data       TEXT NOT NULL,
	created_at TEXT NOT NULL
);
