-- 0007: one-time invites that make someone a volunteer of a group, and how the team list
-- names a volunteer (their Telegram first name when they joined: never asked).

CREATE TABLE invites (
    code        TEXT PRIMARY KEY,            -- random, in the t.me/<bot>?start=j-<code> link
    group_id    INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    created_by  INTEGER,                     -- the admin's Telegram id (NULL once forgotten)
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_by     INTEGER,                     -- NULL until used (and once forgotten)
    used_at     TEXT
);

ALTER TABLE roles ADD COLUMN label TEXT NOT NULL DEFAULT '';
