-- Indexes that hold only pending work, so finding it does not cost more
-- as history grows: inbound messages for the dispatcher's cursor (its scan
-- skips the outbound rows between them), outbound messages still queued
-- for the outbox, and the outbox's open jobs.
CREATE INDEX messages_inbound ON messages (direction) WHERE direction = 'in';
CREATE INDEX messages_outbound_queued ON messages (direction) WHERE direction = 'out' AND private = 0 AND status = 'queued';
CREATE INDEX channel_outbox_open ON channel_outbox (priority, seq) WHERE state IN ('pending', 'sending');
CREATE INDEX channel_outbox_open_conversation ON channel_outbox (conversation_id, seq) WHERE state IN ('pending', 'sending');
CREATE INDEX channel_outbox_pending_due ON channel_outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX channel_outbox_sending_lease ON channel_outbox (lease_until) WHERE state = 'sending';
-- Tasks waiting for an agent, oldest first (the routing stage's backlog).
CREATE INDEX routing_tasks_waiting ON routing_tasks (created_at) WHERE state = 'pending';
-- The old indexes these replace held every sent job.
DROP INDEX channel_outbox_due;
DROP INDEX channel_outbox_conversation;

-- The engine never searches message text (each desktop searches its own
-- cache), so it keeps no full-text index: the per-row trigger flushed the
-- index on every statement and was most of a message's page writes.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;
