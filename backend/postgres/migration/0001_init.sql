-- The engine's store on PostgreSQL, for several `switchboard serve` nodes on
-- one database. Times the store makes are timestamptz (microseconds; the
-- store's clock is truncated to them); entities the engine writes whole
-- with its own clock (routing, flow executions, calls) keep their exact
-- form in a jsonb data column beside the columns that are searched.

-- Users who sign in, and their bearer sessions (only a hash of each token).
CREATE TABLE users (
	id            text PRIMARY KEY,
	name          text NOT NULL,
	email         text NOT NULL,
	role          text NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
	password_hash text NOT NULL,
	disabled_at   timestamptz,
	created_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE sessions (
	token_hash   text PRIMARY KEY,
	user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	last_used_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- A contact is one customer; identities tie channel ids to them.
CREATE TABLE contacts (
	id          text PRIMARY KEY,
	name        text NOT NULL DEFAULT '',
	email       text NOT NULL DEFAULT '',
	phone       text NOT NULL DEFAULT '',
	attributes  jsonb NOT NULL DEFAULT '{}',
	merged_into text REFERENCES contacts (id),
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL
);
CREATE INDEX contacts_phone ON contacts (phone) WHERE phone <> '';

CREATE TABLE identities (
	channel      text NOT NULL,
	external_id  text NOT NULL,
	contact_id   text NOT NULL REFERENCES contacts (id),
	display_name text NOT NULL DEFAULT '',
	created_at   timestamptz NOT NULL,
	PRIMARY KEY (channel, external_id)
);
CREATE INDEX identities_contact ON identities (contact_id);

CREATE TABLE conversations (
	id                text PRIMARY KEY,
	contact_id        text NOT NULL REFERENCES contacts (id),
	channel           text NOT NULL,
	instance          text NOT NULL,
	thread_key        text NOT NULL,
	status            text NOT NULL,
	subject           text NOT NULL DEFAULT '',
	assignee_id       text NOT NULL DEFAULT '',
	last_message_at   timestamptz NOT NULL,
	last_message_text text NOT NULL DEFAULT '',
	labels            text[] NOT NULL DEFAULT '{}',
	created_at        timestamptz NOT NULL,
	updated_at        timestamptz NOT NULL
);
CREATE INDEX conversations_thread ON conversations (channel, instance, thread_key, status);
CREATE INDEX conversations_contact ON conversations (contact_id);
CREATE INDEX conversations_recent ON conversations (last_message_at);

-- pos is the message's place in commit order: the sequence of its first
-- event, set as its transaction commits. The inbound dispatcher and the
-- outbox enqueuer read messages by it, so one that commits late is never
-- passed over.
CREATE TABLE messages (
	id              text PRIMARY KEY,
	pos             bigint UNIQUE,
	conversation_id text NOT NULL REFERENCES conversations (id),
	contact_id      text NOT NULL REFERENCES contacts (id),
	channel         text NOT NULL,
	instance        text NOT NULL,
	direction       text NOT NULL CHECK (direction IN ('in', 'out')),
	author_id       text NOT NULL DEFAULT '',
	author_name     text NOT NULL DEFAULT '',
	text            text NOT NULL DEFAULT '',
	private         boolean NOT NULL DEFAULT false,
	attachments     jsonb NOT NULL DEFAULT '[]',
	external_id     text,
	client_id       text,
	status          text NOT NULL,
	error           text NOT NULL DEFAULT '',
	platform_at     timestamptz,
	raw             text NOT NULL DEFAULT '',
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX messages_external ON messages (channel, instance, external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX messages_client ON messages (client_id) WHERE client_id IS NOT NULL;
CREATE INDEX messages_conversation ON messages (conversation_id, created_at);
CREATE INDEX messages_contact ON messages (contact_id);
CREATE INDEX messages_inbound ON messages (pos) WHERE direction = 'in';
CREATE INDEX messages_outbound ON messages (pos) WHERE direction = 'out' AND NOT private;
CREATE INDEX messages_instance_inbound ON messages (channel, instance, direction, created_at);

-- The change feed. A transaction takes its sequence numbers from the one
-- counter row as it commits and holds that row's lock until it has, so
-- sequences are handed out in commit order: a reader never sees a gap that
-- a slower transaction fills later.
CREATE TABLE events (
	seq        bigint PRIMARY KEY,
	type       text NOT NULL,
	entity_id  text NOT NULL,
	data       json NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE TABLE event_counter (
	id   integer PRIMARY KEY CHECK (id = 1),
	last bigint NOT NULL
);
INSERT INTO event_counter (id, last) VALUES (1, 0);

-- Saved replies agents insert by shortcut.
CREATE TABLE canned_responses (
	id         text PRIMARY KEY,
	shortcut   text NOT NULL,
	title      text NOT NULL DEFAULT '',
	text       text NOT NULL,
	updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX canned_responses_shortcut ON canned_responses (lower(shortcut));

-- Configured accounts of channel connectors; config is sealed.
CREATE TABLE channel_instances (
	connector  text NOT NULL,
	instance   text NOT NULL,
	config     text NOT NULL,
	enabled    boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (connector, instance)
);

-- Named durable cursors over messages.pos.
CREATE TABLE channel_cursors (
	name  text PRIMARY KEY,
	value bigint NOT NULL
);

-- The outbox: one row per outbound message on its way to a platform. seq is
-- the message's pos (a conversation's jobs go in that order); claimed_by
-- is the node sending it.
CREATE TABLE channel_outbox (
	id              text PRIMARY KEY,
	seq             bigint NOT NULL UNIQUE,
	message_id      text NOT NULL UNIQUE REFERENCES messages (id),
	conversation_id text NOT NULL REFERENCES conversations (id),
	connector       text NOT NULL,
	instance        text NOT NULL,
	idempotency_key text NOT NULL UNIQUE,
	state           text NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL,
	lease_until     timestamptz,
	claimed_by      bigint,
	last_error      text NOT NULL DEFAULT '',
	external_id     text NOT NULL DEFAULT '',
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL
);
CREATE INDEX channel_outbox_pending ON channel_outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX channel_outbox_sending ON channel_outbox (lease_until) WHERE state = 'sending';
CREATE INDEX channel_outbox_conversation ON channel_outbox (conversation_id, seq) WHERE state IN ('pending', 'sending');
CREATE INDEX channel_outbox_instance ON channel_outbox (connector, instance, state, updated_at);

-- Routing: the router's entities whole in data, with the columns that
-- constraints and lookups need.
CREATE TABLE routing_activities (
	name       text PRIMARY KEY,
	available  boolean NOT NULL,
	data       jsonb NOT NULL
);

CREATE TABLE routing_workers (
	id         text PRIMARY KEY,
	user_id    text NOT NULL DEFAULT '',
	deleted_at timestamptz,
	data       jsonb NOT NULL
);
CREATE UNIQUE INDEX routing_workers_user ON routing_workers (user_id) WHERE user_id <> '';

CREATE TABLE routing_queues (
	id   text PRIMARY KEY,
	name text NOT NULL,
	data jsonb NOT NULL
);
CREATE UNIQUE INDEX routing_queues_name ON routing_queues (lower(name));

CREATE TABLE routing_workflows (
	id   text PRIMARY KEY,
	data jsonb NOT NULL
);

CREATE TABLE routing_tasks (
	id              text PRIMARY KEY,
	conversation_id text NOT NULL DEFAULT '',
	state           text NOT NULL CHECK (state IN ('pending', 'reserved', 'assigned', 'wrapping', 'completed', 'canceled')),
	created_at      timestamptz NOT NULL,
	data            jsonb NOT NULL
);
CREATE INDEX routing_tasks_open ON routing_tasks (state) WHERE state NOT IN ('completed', 'canceled');
CREATE INDEX routing_tasks_conversation ON routing_tasks (conversation_id) WHERE conversation_id <> '';

CREATE TABLE routing_reservations (
	id         text PRIMARY KEY,
	task_id    text NOT NULL REFERENCES routing_tasks (id),
	worker_id  text NOT NULL REFERENCES routing_workers (id),
	state      text NOT NULL,
	created_at timestamptz NOT NULL,
	data       jsonb NOT NULL
);
-- A task is never reserved to two workers: one active reservation per task.
CREATE UNIQUE INDEX routing_reservations_active ON routing_reservations (task_id) WHERE state IN ('pending', 'accepted', 'wrapping');
CREATE INDEX routing_reservations_worker ON routing_reservations (worker_id, state);

-- Cumulative counters; scope is 'queue' or 'worker'.
CREATE TABLE routing_counters (
	scope    text NOT NULL,
	id       text NOT NULL,
	counters jsonb NOT NULL,
	PRIMARY KEY (scope, id)
);

-- Flow definitions per channel instance; every save is a new revision.
CREATE TABLE flow_revisions (
	flow_key   text NOT NULL,
	revision   integer NOT NULL,
	definition json NOT NULL,
	created_at timestamptz NOT NULL,
	PRIMARY KEY (flow_key, revision)
);

CREATE TABLE flows (
	flow_key   text PRIMARY KEY,
	revision   integer NOT NULL,
	updated_at timestamptz NOT NULL,
	FOREIGN KEY (flow_key, revision) REFERENCES flow_revisions (flow_key, revision)
);

-- One execution per conversation; version is the compare-and-set counter.
-- deadline is the timeout of a waiting execution or the lease of a running
-- one; node is who saved a running one (its runner).
CREATE TABLE flow_executions (
	conversation_id text PRIMARY KEY,
	id              text NOT NULL UNIQUE,
	status          text NOT NULL CHECK (status IN ('running', 'waiting', 'ended', 'agent', 'failed')),
	deadline        timestamptz,
	node            bigint,
	version         bigint NOT NULL,
	data            jsonb NOT NULL
);
CREATE INDEX flow_executions_deadline ON flow_executions (deadline) WHERE deadline IS NOT NULL;
CREATE INDEX flow_executions_running ON flow_executions (deadline) WHERE status = 'running';

-- The web chat widget's server keys (sealed) and visitors' uploads.
CREATE TABLE webchat_keys (
	name       text PRIMARY KEY,
	key        text NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE TABLE webchat_uploads (
	id          text PRIMARY KEY,
	instance    text NOT NULL,
	subject     text NOT NULL,
	name        text NOT NULL,
	type        text NOT NULL,
	size        bigint NOT NULL,
	data        bytea NOT NULL,
	attached_at timestamptz,
	created_at  timestamptz NOT NULL
);
CREATE INDEX webchat_uploads_subject ON webchat_uploads (instance, subject);
CREATE INDEX webchat_uploads_recent ON webchat_uploads (instance, created_at);
CREATE INDEX webchat_uploads_orphans ON webchat_uploads (created_at) WHERE attached_at IS NULL;

-- Who may read each conversation besides supervisors and admins (see
-- backend/internal/storekit).
CREATE TABLE conversation_access (
	conversation_id text NOT NULL,
	user_id         text NOT NULL,
	level           text NOT NULL CHECK (level IN ('owner', 'offered', 'queue', 'assigned', 'contact')),
	PRIMARY KEY (conversation_id, user_id, level)
);
CREATE INDEX conversation_access_user ON conversation_access (user_id, conversation_id);

-- Voice: SIP trunks (sealed configuration) and calls. node is the node
-- whose media bridge carries a live call.
CREATE TABLE voice_trunks (
	name       text PRIMARY KEY,
	config     text NOT NULL,
	enabled    boolean NOT NULL,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL
);

CREATE TABLE calls (
	id              text PRIMARY KEY,
	conversation_id text NOT NULL REFERENCES conversations (id),
	state           text NOT NULL,
	node            bigint,
	started_at      timestamptz NOT NULL,
	data            jsonb NOT NULL
);
CREATE INDEX calls_conversation ON calls (conversation_id);
CREATE INDEX calls_live ON calls (state) WHERE state <> 'ended';

-- A constant sealed with the secret key, so a wrong key is refused at open.
CREATE TABLE secret_state (
	name  text PRIMARY KEY,
	value text NOT NULL
);

-- Files that arrived inside inbound messages, served at /media/{id}.
CREATE TABLE media (
	id         text PRIMARY KEY,
	message_id text NOT NULL,
	name       text NOT NULL,
	type       text NOT NULL,
	size       bigint NOT NULL,
	data       bytea NOT NULL,
	created_at timestamptz NOT NULL
);
CREATE INDEX media_message ON media (message_id);

-- The admin console: the audit log, labels, invitations, the first run.
CREATE TABLE audit_log (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at          timestamptz NOT NULL,
	user_id     text NOT NULL,
	user_name   text NOT NULL,
	action      text NOT NULL,
	entity_type text NOT NULL,
	entity_id   text NOT NULL,
	summary     text NOT NULL,
	details     json NOT NULL DEFAULT '{}'
);

CREATE TABLE labels (
	id          text PRIMARY KEY,
	name        text NOT NULL,
	color       text NOT NULL DEFAULT '',
	description text NOT NULL DEFAULT '',
	updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX labels_name ON labels (lower(name));
CREATE INDEX conversations_labels ON conversations USING gin (labels);

CREATE TABLE invites (
	token_hash  text PRIMARY KEY,
	id          text NOT NULL UNIQUE,
	email       text NOT NULL,
	name        text NOT NULL,
	role        text NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
	invited_by  text NOT NULL,
	created_at  timestamptz NOT NULL,
	expires_at  timestamptz NOT NULL,
	accepted_at timestamptz,
	user_id     text NOT NULL DEFAULT ''
);

CREATE TABLE first_run (
	id         integer PRIMARY KEY CHECK (id = 1),
	claimed_at timestamptz NOT NULL
);
