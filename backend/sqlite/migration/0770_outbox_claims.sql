-- Each claim of the outbox gets a number, and each job its place in it.
-- The hub sends one instance's jobs of a claim in that order, recording
-- each outcome before the next send, so after a crash a job is in doubt
-- (may have reached the platform) only if no earlier job of its instance
-- in the same claim is still sending; the others never started.
ALTER TABLE channel_outbox ADD COLUMN claim_batch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channel_outbox ADD COLUMN claim_rank INTEGER NOT NULL DEFAULT 0;
CREATE INDEX channel_outbox_claims ON channel_outbox (claim_batch, connector, instance, claim_rank) WHERE state = 'sending';
