-- Routing (backend/routing): activities, workers, queues, workflows, tasks,
-- reservations and cumulative counters. JSON columns hold attribute maps.
CREATE TABLE routing_activities (
	name       TEXT PRIMARY KEY,
	available  INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE routing_workers (
	id                  TEXT PRIMARY KEY,
	user_id             TEXT NOT NULL DEFAULT '',
	name                TEXT NOT NULL,
	attributes          TEXT NOT NULL DEFAULT '{}',
	activity            TEXT NOT NULL REFERENCES routing_activities (name),
	capacity            TEXT NOT NULL DEFAULT '{}',
	idle_since          TEXT NOT NULL,
	activity_changed_at TEXT NOT NULL,
	created_at          TEXT NOT NULL,
	updated_at          TEXT NOT NULL
);
CREATE UNIQUE INDEX routing_workers_user ON routing_workers (user_id) WHERE user_id <> '';

CREATE TABLE routing_queues (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
	data       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE routing_workflows (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	data       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE routing_tasks (
	id              TEXT PRIMARY KEY,
	channel         TEXT NOT NULL,
	attributes      TEXT NOT NULL DEFAULT '{}',
	priority        INTEGER NOT NULL,
	conversation_id TEXT NOT NULL DEFAULT '',
	state           TEXT NOT NULL CHECK (state IN ('pending', 'reserved', 'assigned', 'wrapping', 'completed', 'canceled')),
	workflow_id     TEXT NOT NULL DEFAULT '',
	filter          TEXT NOT NULL DEFAULT '',
	filter_index    INTEGER NOT NULL DEFAULT 0,
	target_index    INTEGER NOT NULL DEFAULT 0,
	queue_id        TEXT NOT NULL,
	target_expires  TEXT NOT NULL DEFAULT '',
	worker_id       TEXT NOT NULL DEFAULT '',
	rejected_by     TEXT NOT NULL DEFAULT '[]',
	reason          TEXT NOT NULL DEFAULT '',
	disposition     TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL,
	assigned_at     TEXT NOT NULL DEFAULT '',
	ended_at        TEXT NOT NULL DEFAULT '',
	updated_at      TEXT NOT NULL
);
CREATE INDEX routing_tasks_open ON routing_tasks (state) WHERE state NOT IN ('completed', 'canceled');
CREATE INDEX routing_tasks_conversation ON routing_tasks (conversation_id) WHERE conversation_id <> '';

CREATE TABLE routing_reservations (
	id         TEXT PRIMARY KEY,
	task_id    TEXT NOT NULL REFERENCES routing_tasks (id),
	worker_id  TEXT NOT NULL REFERENCES routing_workers (id),
	channel    TEXT NOT NULL,
	queue_id   TEXT NOT NULL,
	state      TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
-- A task is never reserved to two workers: one active reservation per task.
CREATE UNIQUE INDEX routing_reservations_active ON routing_reservations (task_id) WHERE state IN ('pending', 'accepted', 'wrapping');
CREATE INDEX routing_reservations_worker ON routing_reservations (worker_id, state);

-- Cumulative counters; scope is 'queue' or 'worker'.
CREATE TABLE routing_counters (
	scope         TEXT NOT NULL,
	id            TEXT NOT NULL,
	offered       INTEGER NOT NULL DEFAULT 0,
	accepted      INTEGER NOT NULL DEFAULT 0,
	rejected      INTEGER NOT NULL DEFAULT 0,
	timed_out     INTEGER NOT NULL DEFAULT 0,
	canceled      INTEGER NOT NULL DEFAULT 0,
	completed     INTEGER NOT NULL DEFAULT 0,
	answered      INTEGER NOT NULL DEFAULT 0,
	wait_millis   INTEGER NOT NULL DEFAULT 0,
	handle_millis INTEGER NOT NULL DEFAULT 0,
	within_sla    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (scope, id)
);
