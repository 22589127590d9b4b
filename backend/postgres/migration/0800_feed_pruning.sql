-- How far each desktop (signed-in session) has read the change feed (the
-- SQLite store's migration 0800): pruning keeps every event one of them has
-- not read. A session that ends forgets its cursor.
CREATE TABLE feed_cursors (
	session_id text PRIMARY KEY REFERENCES sessions (token_hash) ON DELETE CASCADE,
	seq        bigint NOT NULL,
	updated_at timestamptz NOT NULL
);

-- The latest event of each entity a snapshot reads from the log, found
-- without reading the rest.
CREATE INDEX events_entity ON events (type, entity_id, seq) WHERE type NOT IN
	('contact.upserted', 'conversation.upserted', 'message.upserted', 'flow_execution.upserted',
	 'access.changed', 'conversation.removed', 'session.revoked');

-- Events at or below the floor may have been pruned.
INSERT INTO engine_meta (key, value) VALUES ('feed_floor', '0');
