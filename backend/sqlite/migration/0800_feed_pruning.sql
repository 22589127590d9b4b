-- How far each desktop (signed-in session) has read the change feed, from
-- its sync requests: pruning keeps every event one of them has not read.
-- A session that ends (sign-out, expiry) forgets its cursor.
CREATE TABLE feed_cursors (
	session_id TEXT PRIMARY KEY REFERENCES sessions (token_hash) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	updated_at TEXT NOT NULL
);

-- The latest event of each entity a snapshot reads from the log (every type
-- but contacts, conversations, messages, flow executions and access events,
-- which it reads from their tables), found without reading the rest.
CREATE INDEX events_entity ON events (type, entity_id) WHERE type NOT IN
	('contact.upserted', 'conversation.upserted', 'message.upserted', 'flow_execution.upserted',
	 'access.changed', 'conversation.removed', 'session.revoked');

-- Events at or below the floor may have been pruned.
INSERT INTO engine_meta (key, value) VALUES ('feed_floor', '0');
