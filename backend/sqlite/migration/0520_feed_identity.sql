-- Who this store is: a desktop cache checks that the feed it follows is
-- still the one it started from (a replaced store has another engine id).
CREATE TABLE engine_meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
INSERT INTO engine_meta (key, value) VALUES ('engine_id', lower(hex(randomblob(16)))), ('feed_epoch', lower(hex(randomblob(8))));
