-- 0005: what retention needs, and counts that outlive the messages they count.

-- When the person last wrote (updated at most once a day) and when we asked if they want to
-- stay after a year of silence; any message from them clears the question.
ALTER TABLE users ADD COLUMN last_seen_at TEXT;
ALTER TABLE users ADD COLUMN retention_asked_at TEXT;
UPDATE users SET last_seen_at = updated_at;
CREATE INDEX users_last_seen ON users (last_seen_at);

-- Anonymous monthly counts of finished outbox rows, kept when the rows themselves are
-- deleted (by /forget, retention, or the purge of old rows): no chat ids here.
CREATE TABLE outbox_tally (
    month  TEXT NOT NULL,                    -- YYYY-MM (UTC) of the row's last change
    kind   TEXT NOT NULL,
    state  TEXT NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (month, kind, state)
);
