-- When declined tasks go back to those who declined them, and wrap-up times.
ALTER TABLE routing_tasks ADD COLUMN retry_at TEXT NOT NULL DEFAULT '';
ALTER TABLE routing_tasks ADD COLUMN wrap_up_at TEXT NOT NULL DEFAULT '';
ALTER TABLE routing_tasks ADD COLUMN wrap_up_ends TEXT NOT NULL DEFAULT '';
