-- Saved replies agents insert by shortcut.
CREATE TABLE canned_responses (
	id         TEXT PRIMARY KEY,
	shortcut   TEXT NOT NULL UNIQUE COLLATE NOCASE,
	title      TEXT NOT NULL DEFAULT '',
	text       TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
