-- Queue access by group (SQLite's migration 0760): a conversation waiting
-- in a queue names the group of users who serve it instead of holding one
-- access row per member, rewritten on every routing decision; a group's
-- members are stored once for every conversation that waits for the same
-- people, and a group nobody names any more is dropped.
CREATE TABLE access_groups (
	group_id text NOT NULL,
	user_id  text NOT NULL,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX access_groups_user ON access_groups (user_id, group_id);
CREATE TABLE conversation_access_groups (
	conversation_id text PRIMARY KEY,
	group_id        text NOT NULL
);
CREATE INDEX conversation_access_groups_group ON conversation_access_groups (group_id, conversation_id);

-- Queue access stored the old way becomes one group per conversation; the
-- router's next complete report replaces them with shared groups.
INSERT INTO access_groups (group_id, user_id)
	SELECT 'c:' || conversation_id, user_id FROM conversation_access WHERE level = 'queue';
INSERT INTO conversation_access_groups (conversation_id, group_id)
	SELECT DISTINCT conversation_id, 'c:' || conversation_id FROM conversation_access WHERE level = 'queue';
DELETE FROM conversation_access WHERE level = 'queue';

-- Who may read each conversation, and at which level: the rows of
-- conversation_access and the members of the conversation's group.
CREATE VIEW conversation_readers (conversation_id, user_id, level) AS
	SELECT conversation_id, user_id, level FROM conversation_access
	UNION ALL
	SELECT g.conversation_id, m.user_id, 'queue' FROM conversation_access_groups g JOIN access_groups m ON m.group_id = g.group_id;
