-- Files kept for conversations, each content stored once (by SHA-256):
-- customers' attachments fetched from their platforms (with the reference
-- to fetch them with while they wait), email parts, web chat uploads and
-- agents' uploads for replies. Whoever may read a file's conversation may
-- read the file.
CREATE TABLE media_blobs (
	hash       TEXT PRIMARY KEY,
	size       INTEGER NOT NULL,
	data       BLOB NOT NULL,
	created_at TEXT NOT NULL
);

CREATE TABLE media_files (
	id              TEXT PRIMARY KEY,
	conversation_id TEXT NOT NULL,
	message_id      TEXT NOT NULL DEFAULT '',
	channel         TEXT NOT NULL,
	instance        TEXT NOT NULL,
	name            TEXT NOT NULL DEFAULT '',
	type            TEXT NOT NULL DEFAULT '',
	size            INTEGER NOT NULL DEFAULT 0,
	hash            TEXT NOT NULL DEFAULT '',
	state           TEXT NOT NULL CHECK (state IN ('ready', 'fetching', 'failed')),
	error           TEXT NOT NULL DEFAULT '',
	source          TEXT NOT NULL DEFAULT '',
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at TEXT NOT NULL DEFAULT '',
	uploaded_by     TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL
);
CREATE INDEX media_files_message ON media_files (message_id);
CREATE INDEX media_files_hash ON media_files (hash);
-- Only files still to fetch are in the fetcher's index.
CREATE INDEX media_files_due ON media_files (next_attempt_at) WHERE state = 'fetching';

-- The files kept before (email parts) move over, keyed by their id: SQL
-- cannot hash them, so they are stored once each.
INSERT INTO media_blobs (hash, size, data, created_at) SELECT 'legacy-' || id, size, data, created_at FROM media;
INSERT INTO media_files (id, conversation_id, message_id, channel, instance, name, type, size, hash, state, created_at)
	SELECT md.id, m.conversation_id, md.message_id, m.channel, m.instance, md.name, md.type, md.size, 'legacy-' || md.id, 'ready', md.created_at
	FROM media AS md JOIN messages AS m ON m.id = md.message_id;
DROP TABLE media;

-- New web chat uploads keep their bytes with the other files.
ALTER TABLE webchat_uploads ADD COLUMN hash TEXT NOT NULL DEFAULT '';

-- Who else an email went to (or a reply copies, '' when the connector
-- decides), what the engine could not read of a message, and whether a
-- program (an auto-responder, a mail server) sent it.
ALTER TABLE messages ADD COLUMN cc TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN problem TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN automatic INTEGER NOT NULL DEFAULT 0;

-- The outbox sends people's replies (0) before bot messages (1).
ALTER TABLE channel_outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;

-- What each instance's poller keeps between runs: Telegram's offset, the
-- IMAP mailbox's UIDs, the Discord session and last message per channel.
CREATE TABLE channel_poller_state (
	connector  TEXT NOT NULL,
	instance   TEXT NOT NULL,
	state      BLOB NOT NULL,
	updated_at TEXT NOT NULL,
	PRIMARY KEY (connector, instance)
);
CREATE INDEX webchat_uploads_hash ON webchat_uploads (hash) WHERE hash <> '';
