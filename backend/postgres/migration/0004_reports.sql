-- Supervisors' reports and live figures (SQLite's migration 0700). The
-- columns a report groups and measures by leave the tasks' data:
-- answered_at and wait_ms keep a task's first accept and its wait until
-- then (assignedAt moves on a transfer); handle_ms is a completed task's
-- time from accept to end. The report index holds them all, so a month's
-- report is an index-only scan of one range.
ALTER TABLE routing_tasks ADD COLUMN channel text NOT NULL DEFAULT '';
ALTER TABLE routing_tasks ADD COLUMN queue_id text NOT NULL DEFAULT '';
ALTER TABLE routing_tasks ADD COLUMN worker_id text NOT NULL DEFAULT '';
ALTER TABLE routing_tasks ADD COLUMN ended_at timestamptz;
ALTER TABLE routing_tasks ADD COLUMN answered_at timestamptz;
ALTER TABLE routing_tasks ADD COLUMN wait_ms bigint;
ALTER TABLE routing_tasks ADD COLUMN handle_ms bigint;
UPDATE routing_tasks SET channel = COALESCE(data->>'channel', ''), queue_id = COALESCE(data->>'queueId', ''),
	worker_id = COALESCE(data->>'workerId', ''), ended_at = (data->>'endedAt')::timestamptz,
	answered_at = (data->>'assignedAt')::timestamptz;
UPDATE routing_tasks SET wait_ms = round(extract(epoch FROM answered_at - created_at) * 1000) WHERE answered_at IS NOT NULL;
UPDATE routing_tasks SET handle_ms = round(extract(epoch FROM ended_at - answered_at) * 1000)
	WHERE state = 'completed' AND answered_at IS NOT NULL;
CREATE INDEX routing_tasks_report ON routing_tasks (created_at)
	INCLUDE (queue_id, channel, worker_id, state, wait_ms, handle_ms, conversation_id);
CREATE INDEX routing_tasks_ended ON routing_tasks (ended_at) INCLUDE (worker_id, handle_ms) WHERE state = 'completed';

ALTER TABLE routing_reservations ADD COLUMN updated_at timestamptz;
UPDATE routing_reservations SET updated_at = (data->>'updatedAt')::timestamptz;
CREATE INDEX routing_reservations_declined ON routing_reservations (updated_at) INCLUDE (worker_id, state)
	WHERE state IN ('rejected', 'timeout');

-- The first reply an agent sent in a conversation, for the reports' first
-- response time.
CREATE INDEX messages_agent_replies ON messages (conversation_id, created_at)
	WHERE direction = 'out' AND NOT private AND author_id <> '';
