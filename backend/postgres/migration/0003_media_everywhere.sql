-- Files kept for conversations, each content stored once (by SHA-256):
-- customers' attachments fetched from their platforms (with the reference
-- to fetch them with while they wait), email parts, web chat uploads and
-- agents' uploads for replies. Whoever may read a file's conversation may
-- read the file. (SQLite's migration 0650.)
CREATE TABLE media_blobs (
	hash       text PRIMARY KEY,
	size       bigint NOT NULL,
	data       bytea NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE TABLE media_files (
	id              text PRIMARY KEY,
	conversation_id text NOT NULL,
	message_id      text NOT NULL DEFAULT '',
	channel         text NOT NULL,
	instance        text NOT NULL,
	name            text NOT NULL DEFAULT '',
	type            text NOT NULL DEFAULT '',
	size            bigint NOT NULL DEFAULT 0,
	hash            text NOT NULL DEFAULT '',
	state           text NOT NULL CHECK (state IN ('ready', 'fetching', 'failed')),
	error           text NOT NULL DEFAULT '',
	source          text NOT NULL DEFAULT '',
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz,
	uploaded_by     text NOT NULL DEFAULT '',
	created_at      timestamptz NOT NULL
);
CREATE INDEX media_files_message ON media_files (message_id);
CREATE INDEX media_files_hash ON media_files (hash);
-- Only files still to fetch are in the fetchers' index.
CREATE INDEX media_files_due ON media_files (next_attempt_at) WHERE state = 'fetching';

-- The files kept before (email parts) move over, hashed by the database.
INSERT INTO media_blobs (hash, size, data, created_at)
	SELECT DISTINCT ON (h) h, size, data, created_at FROM (SELECT encode(sha256(data), 'hex') AS h, size, data, created_at FROM media) AS m
	ON CONFLICT (hash) DO NOTHING;
INSERT INTO media_files (id, conversation_id, message_id, channel, instance, name, type, size, hash, state, created_at)
	SELECT md.id, m.conversation_id, md.message_id, m.channel, m.instance, md.name, md.type, md.size, encode(sha256(md.data), 'hex'), 'ready', md.created_at
	FROM media AS md JOIN messages AS m ON m.id = md.message_id;
DROP TABLE media;

-- New web chat uploads keep their bytes with the other files.
ALTER TABLE webchat_uploads ADD COLUMN hash text NOT NULL DEFAULT '';
CREATE INDEX webchat_uploads_hash ON webchat_uploads (hash) WHERE hash <> '';

-- Who else an email went to (or a reply copies; NULL when the connector
-- decides), what the engine could not read of a message, and whether a
-- program (an auto-responder, a mail server) sent it.
ALTER TABLE messages ADD COLUMN cc jsonb;
ALTER TABLE messages ADD COLUMN problem text NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN automatic boolean NOT NULL DEFAULT false;

-- The outbox sends people's replies (0) before bot messages (1).
ALTER TABLE channel_outbox ADD COLUMN priority smallint NOT NULL DEFAULT 1;
CREATE INDEX channel_outbox_due ON channel_outbox (priority, seq) WHERE state IN ('pending', 'sending');

-- What each instance's poller keeps between runs: Telegram's offset, the
-- IMAP mailbox's UIDs, the Discord session and last message per channel.
CREATE TABLE channel_poller_state (
	connector  text NOT NULL,
	instance   text NOT NULL,
	state      bytea NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (connector, instance)
);
