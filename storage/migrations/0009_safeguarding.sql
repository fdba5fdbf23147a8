-- 0009: safeguarding: each group's safeguarding contact, concerns reported about activities,
-- and anonymous interest marks.

CREATE TABLE safeguarding_contacts (
    group_id    INTEGER PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,            -- a member of the group's team
    label       TEXT NOT NULL DEFAULT '',    -- their Telegram first name, as in the team list
    set_by      INTEGER,                     -- the admin (NULL once forgotten)
    set_at      TEXT NOT NULL
);

-- A concern about an activity. The reporter's id is kept only so that three reports come from
-- three different people; organisers never see it. Words are deleted 6 months after review.
CREATE TABLE reports (
    id           INTEGER PRIMARY KEY,
    activity_id  INTEGER NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    reporter     INTEGER,                    -- NULL once forgotten
    reason       TEXT NOT NULL CHECK (reason IN ('wrong', 'unsafe', 'money', 'other')),
    words        TEXT,                       -- optional, at most 500 characters
    created_at   TEXT NOT NULL,
    reviewed_at  TEXT,
    outcome      TEXT CHECK (outcome IN ('restored', 'removed')),
    UNIQUE (activity_id, reporter)
);
CREATE INDEX reports_open ON reports (activity_id, reviewed_at);

-- "I'm interested": organisers see how many, never who.
CREATE TABLE interest (
    activity_id  INTEGER NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (activity_id, user_id)
);
CREATE INDEX interest_user ON interest (user_id);
