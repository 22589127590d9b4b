-- Files that arrived inside inbound messages (an email's parts), served by
-- the engine at /media/{id}: the random id is the capability to read one.
CREATE TABLE media (
	id         TEXT PRIMARY KEY,
	message_id TEXT NOT NULL,
	name       TEXT NOT NULL,
	type       TEXT NOT NULL,
	size       INTEGER NOT NULL,
	data       BLOB NOT NULL,
	created_at TEXT NOT NULL
);
CREATE INDEX media_message ON media (message_id);
