-- Who this store is (SQLite's migration 0520): a desktop cache checks that
-- the feed it follows is still the one it started from (a replaced or
-- recreated database has another engine id).
CREATE TABLE engine_meta (
	key   text PRIMARY KEY,
	value text NOT NULL
);
INSERT INTO engine_meta (key, value) VALUES ('engine_id', replace(gen_random_uuid()::text, '-', '')),
	('feed_epoch', substr(replace(gen_random_uuid()::text, '-', ''), 1, 16));

-- A routing command's error keeps its reason (backend.Error.Reason, such as
-- task_taken) on its way back from the leader to the caller.
ALTER TABLE routing_commands ADD COLUMN error_reason text NOT NULL DEFAULT '';
