-- Supervisors' reports and live figures. answered_at and wait_ms keep a
-- task's first accept and its wait until then (assigned_at moves on a
-- transfer); handle_ms is a completed task's time from accept to end. The
-- report index holds them with everything a report groups by, so a
-- month's report reads one range of that index and never the tasks' rows.
ALTER TABLE routing_tasks ADD COLUMN answered_at TEXT NOT NULL DEFAULT '';
ALTER TABLE routing_tasks ADD COLUMN wait_ms INTEGER;
ALTER TABLE routing_tasks ADD COLUMN handle_ms INTEGER;
UPDATE routing_tasks SET answered_at = assigned_at,
	wait_ms = CAST(round((unixepoch(assigned_at, 'subsec') - unixepoch(created_at, 'subsec')) * 1000) AS INTEGER)
	WHERE assigned_at <> '';
UPDATE routing_tasks SET handle_ms = CAST(round((unixepoch(ended_at, 'subsec') - unixepoch(assigned_at, 'subsec')) * 1000) AS INTEGER)
	WHERE state = 'completed' AND assigned_at <> '';
CREATE INDEX routing_tasks_report ON routing_tasks (created_at, queue_id, channel, worker_id, state, wait_ms, handle_ms, conversation_id);
CREATE INDEX routing_tasks_ended ON routing_tasks (ended_at, worker_id, handle_ms) WHERE state = 'completed';
CREATE INDEX routing_reservations_declined ON routing_reservations (updated_at, worker_id, state) WHERE state IN ('rejected', 'timeout');
