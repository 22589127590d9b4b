-- The web chat widget's server keys (the visitor-token signing key) and the
-- files visitors upload. An upload id is random and unguessable: its URL is
-- the capability to read it.
CREATE TABLE webchat_keys (
	name       TEXT PRIMARY KEY,
	key        BLOB NOT NULL,
	created_at TEXT NOT NULL
);

CREATE TABLE webchat_uploads (
	id         TEXT PRIMARY KEY,
	instance   TEXT NOT NULL,
	subject    TEXT NOT NULL,
	name       TEXT NOT NULL,
	type       TEXT NOT NULL,
	size       INTEGER NOT NULL,
	data       BLOB NOT NULL,
	created_at TEXT NOT NULL
);
CREATE INDEX webchat_uploads_subject ON webchat_uploads (instance, subject);
