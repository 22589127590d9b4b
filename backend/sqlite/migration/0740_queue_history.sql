-- The supervisor's chart of the past hour: when a task stopped waiting
-- for an answer (its first accept, or its end when nobody accepted it), so
-- the tasks that waited during an hour are one range of an index however
-- long ago they arrived.
CREATE INDEX routing_tasks_unanswered_until ON routing_tasks (iif(answered_at <> '', answered_at, ended_at));
