-- 0022: priority lanes in the outbox, and the indexes the sender and the purge need.
-- lane 0: time-critical (reminders, changes and cancellations, safeguarding concerns, notices
-- to admins); 1: routine (digests, weekly group posts, questions); 2: campaign calls. The
-- sender takes lane 0 first, then 1, then 2; bulk gets whatever the limits leave.
ALTER TABLE outbox ADD COLUMN lane INTEGER NOT NULL DEFAULT 1;
UPDATE outbox SET lane = CASE
    WHEN kind IN ('reminder', 'change', 'concern', 'notice') THEN 0
    WHEN kind = 'campaign' THEN 2
    ELSE 1 END;
-- claim: the due pending rows of one lane, oldest first
CREATE INDEX outbox_claim ON outbox (state, lane, not_before);
-- the hourly purge and the restarted sender: finished rows by when they finished
CREATE INDEX outbox_finished ON outbox (state, updated_at);
