-- Access follows the work: who may read each conversation besides
-- supervisors and admins, kept by routing decisions in the same
-- transaction as the change feed's access events. Levels: owner (holds
-- its task), offered, queue (waits in a queue the user serves), assigned
-- (completed it, until someone else takes it), contact (the customer's
-- history).
CREATE TABLE conversation_access (
	conversation_id TEXT NOT NULL,
	user_id         TEXT NOT NULL,
	level           TEXT NOT NULL CHECK (level IN ('owner', 'offered', 'queue', 'assigned', 'contact')),
	PRIMARY KEY (conversation_id, user_id, level)
);
CREATE INDEX conversation_access_user ON conversation_access (user_id, conversation_id);

-- Sessions end when idle as well as at an absolute time; users can be
-- disabled.
ALTER TABLE sessions ADD COLUMN last_used_at TEXT NOT NULL DEFAULT '';
UPDATE sessions SET last_used_at = created_at;
CREATE INDEX sessions_user ON sessions (user_id);
ALTER TABLE users ADD COLUMN disabled_at TEXT NOT NULL DEFAULT '';
