-- Flow definitions per channel instance ("connector/instance"). Every save
-- is a new revision; flows points at the current one. Revisions stay after
-- a flow is replaced or deleted, for executions still running on them.
CREATE TABLE flow_revisions (
	flow_key   TEXT NOT NULL,
	revision   INTEGER NOT NULL,
	definition TEXT NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (flow_key, revision)
);

CREATE TABLE flows (
	flow_key   TEXT PRIMARY KEY,
	revision   INTEGER NOT NULL,
	updated_at TEXT NOT NULL,
	FOREIGN KEY (flow_key, revision) REFERENCES flow_revisions (flow_key, revision)
);

-- One execution per conversation. version is the compare-and-set counter;
-- data holds variables, widget outputs and inputs as JSON.
CREATE TABLE flow_executions (
	conversation_id TEXT PRIMARY KEY,
	id              TEXT NOT NULL UNIQUE,
	flow_key        TEXT NOT NULL,
	revision        INTEGER NOT NULL,
	status          TEXT NOT NULL CHECK (status IN ('running', 'waiting', 'ended', 'agent', 'failed')),
	widget          TEXT NOT NULL,
	timeout_at      TEXT NOT NULL DEFAULT '',
	lease_until     TEXT NOT NULL DEFAULT '',
	deadline        TEXT NOT NULL DEFAULT '',
	version         INTEGER NOT NULL,
	data            TEXT NOT NULL,
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL
);
-- deadline is the timeout of a waiting execution or the lease of a running
-- one, and empty otherwise: the engine's timer reads the soonest.
CREATE INDEX flow_executions_deadline ON flow_executions (deadline) WHERE deadline <> '';
