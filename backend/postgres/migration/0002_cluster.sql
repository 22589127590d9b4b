-- Several engine processes (nodes) on one database.

-- Every node registers here and, while it lives, holds a session advisory
-- lock on its id (see nodeLocks in listen.go). Another node tells whether
-- the runner of a flow, the sender of a reply or the bridge of a call is
-- alive by looking for that lock.
CREATE TABLE nodes (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text NOT NULL,
	started_at timestamptz NOT NULL
);

-- The routing leader's term. A node that takes over (holding the leader's
-- advisory lock) bumps epoch; every routing write of the leader checks,
-- under a share lock on this row, that its term is still the current one,
-- so a deposed leader's late write is refused instead of committed beside
-- its successor's.
CREATE TABLE routing_leader (
	id    integer PRIMARY KEY CHECK (id = 1),
	epoch bigint NOT NULL,
	node  bigint,
	since timestamptz
);
INSERT INTO routing_leader (id, epoch) VALUES (1, 0);

-- Routing commands other nodes hand the leader, and their results. They
-- live only as long as the caller waits, so the table is not written to
-- the WAL: after a database crash the callers have timed out anyway.
CREATE UNLOGGED TABLE routing_commands (
	id            text PRIMARY KEY,
	method        text NOT NULL,
	args          jsonb NOT NULL,
	state         text NOT NULL CHECK (state IN ('pending', 'running', 'done', 'canceled')),
	epoch         bigint,
	result        jsonb,
	error_code    text NOT NULL DEFAULT '',
	error_message text NOT NULL DEFAULT '',
	created_at    timestamptz NOT NULL
);
CREATE INDEX routing_commands_pending ON routing_commands (created_at) WHERE state = 'pending';
