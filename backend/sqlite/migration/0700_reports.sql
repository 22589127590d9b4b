-- Supervisors' reports and live figures. answered_at keeps a task's first
-- accept (assigned_at moves on a transfer); the indexes let a report read
-- one range of creation or end times, and the live view today's declined
-- offers, without scanning history.
ALTER TABLE routing_tasks ADD COLUMN answered_at TEXT NOT NULL DEFAULT '';
UPDATE routing_tasks SET answered_at = assigned_at WHERE assigned_at <> '';
CREATE INDEX routing_tasks_created ON routing_tasks (created_at);
CREATE INDEX routing_tasks_ended ON routing_tasks (ended_at) WHERE state = 'completed';
CREATE INDEX routing_reservations_declined ON routing_reservations (updated_at) WHERE state IN ('rejected', 'timeout');
