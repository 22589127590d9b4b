-- A web chat upload is attached once a message carries it; uploads never
-- attached are deleted after a while, and recent uploads count against the
-- visitor's and the instance's quotas.
ALTER TABLE webchat_uploads ADD COLUMN attached_at TEXT NOT NULL DEFAULT '';
UPDATE webchat_uploads SET attached_at = created_at WHERE EXISTS (
	SELECT 1 FROM messages WHERE messages.channel = 'webchat' AND messages.instance = webchat_uploads.instance
		AND messages.attachments LIKE '%/files/' || webchat_uploads.id || '"%');
CREATE INDEX webchat_uploads_recent ON webchat_uploads (instance, created_at);
CREATE INDEX webchat_uploads_orphans ON webchat_uploads (created_at) WHERE attached_at = '';
