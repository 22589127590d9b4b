-- Secrets at rest: a constant sealed with the engine's secret key (so a
-- wrong key is refused at open) and a marker that clear-text secrets
-- written before encryption existed were sealed once.
CREATE TABLE secret_state (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
