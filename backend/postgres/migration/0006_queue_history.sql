-- The supervisor's chart of the past hour (SQLite's migration 0740): when
-- a task stopped waiting for an answer (its first accept, or its end when
-- nobody accepted it), so the tasks that waited during an hour are one
-- range of an index however long ago they arrived.
CREATE INDEX routing_tasks_unanswered_until ON routing_tasks ((COALESCE(answered_at, ended_at)))
	INCLUDE (queue_id, created_at, state, wait_ms);
