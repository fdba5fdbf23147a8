-- 0002: the durable outbox every bulk message goes through, and which chats can be reached.

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,               -- reminder, digest, notice, campaign...
    subject     TEXT NOT NULL,               -- what it is about, e.g. activity:12:2026-11-24
    chat_id     INTEGER NOT NULL,
    payload     TEXT NOT NULL DEFAULT '{}',  -- JSON the renderer needs; rendered at send time
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'blocked', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  TEXT NOT NULL,               -- next attempt, UTC
    message_id  INTEGER,                     -- Telegram's, once sent
    error       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (kind, subject, chat_id)
);
CREATE INDEX outbox_due ON outbox (state, not_before);
CREATE INDEX outbox_chat ON outbox (chat_id, state);

CREATE TABLE chat_status (
    chat_id      INTEGER PRIMARY KEY,
    unreachable  INTEGER NOT NULL DEFAULT 0, -- blocked the bot, deactivated, removed from group
    reason       TEXT,
    updated_at   TEXT NOT NULL
);
