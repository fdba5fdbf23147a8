-- 0016: the updates Telegram posted to the webhook that were handled, by update_id, so that a
-- repeat (Telegram sends an update again when it got no 200, e.g. after a crash or a slow
-- answer) is acknowledged without being handled twice. Kept one day: Telegram stops retrying
-- long before, and after a quiet week the next update_id is random, so no high-water mark.
-- No personal data: an update_id says nothing about who sent it.
CREATE TABLE handled_updates (
    update_id   INTEGER PRIMARY KEY,
    handled_at  TEXT NOT NULL
);
CREATE INDEX handled_updates_at ON handled_updates (handled_at);
