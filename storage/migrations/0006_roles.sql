-- 0006: who may do what (roles), a record of every change (audit log), and the Telegram
-- group chats where a City of Sanctuary group gets its week's activities.

CREATE TABLE roles (
    user_id     INTEGER NOT NULL,            -- Telegram id (they may not have written yet)
    role        TEXT NOT NULL CHECK (role IN ('coordinator', 'admin', 'volunteer')),
    group_id    INTEGER NOT NULL DEFAULT 0,  -- 0 for a network coordinator, else groups.id
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, role, group_id),
    CHECK ((role = 'coordinator') = (group_id = 0))
);
CREATE INDEX roles_group ON roles (group_id, role);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     INTEGER,                       -- Telegram id; NULL: the command line (or forgotten)
    action    TEXT NOT NULL,                 -- grant, revoke, weekly_on, weekly_off, refused...
    target    INTEGER,                       -- the person concerned, if any (NULL once forgotten)
    group_id  INTEGER,
    detail    TEXT NOT NULL DEFAULT ''       -- never message text or ids of people
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE group_chats (
    chat_id     INTEGER PRIMARY KEY,         -- a Telegram group or supergroup chat (negative)
    group_id    INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    locale      TEXT NOT NULL DEFAULT 'en',  -- the language its posts are written in
    weekly      INTEGER NOT NULL DEFAULT 0,  -- post the week's activities every Monday
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
