-- 0010: volunteers post and manage activities: half-finished posts (drafts), moderation,
-- freshness ("still running?"), pausing, and anonymous feedback after an occurrence.

-- A post or an edit in progress, one per person: the answers so far and the question asked,
-- so that a restart loses nothing. Deleted when published, discarded, or 30 days untouched.
CREATE TABLE activity_drafts (
    user_id      INTEGER PRIMARY KEY,
    group_id     INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    activity_id  INTEGER REFERENCES activities (id) ON DELETE CASCADE,  -- editing this one
    section      TEXT NOT NULL DEFAULT 'all', -- all: a new post; else the part being edited
    step         TEXT NOT NULL,               -- the question being asked
    data         TEXT NOT NULL DEFAULT '{}',  -- the answers (JSON)
    trail        TEXT NOT NULL DEFAULT '[]',  -- questions answered, for /back (JSON)
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

ALTER TABLE activities ADD COLUMN confirmed_at TEXT;       -- last "still running"; NULL: created_at
ALTER TABLE activities ADD COLUMN fresh_asked_at TEXT;     -- when "still running?" was asked
ALTER TABLE activities ADD COLUMN stale_since TEXT;        -- hidden for no answer since then
ALTER TABLE activities ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activities ADD COLUMN moderated INTEGER NOT NULL DEFAULT 0;  -- approved by an admin
ALTER TABLE activities ADD COLUMN moderation_note TEXT;    -- changes asked, or why rejected
CREATE INDEX activities_created_by ON activities (created_by);
CREATE INDEX activities_status ON activities (status);

-- When the person who said "I'm interested" was asked how welcome they felt.
ALTER TABLE interest ADD COLUMN asked_at TEXT;

-- How welcome people felt (1-5) and optional words. Organisers see aggregates, never who;
-- user_id only keeps one answer per person and goes when they are forgotten. Words are
-- deleted 6 months after an organiser read them (a year after they were written at most).
CREATE TABLE feedback (
    id           INTEGER PRIMARY KEY,
    activity_id  INTEGER NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    user_id      INTEGER,
    welcome      INTEGER NOT NULL CHECK (welcome BETWEEN 1 AND 5),
    words        TEXT,
    created_at   TEXT NOT NULL,
    reviewed_at  TEXT,
    UNIQUE (activity_id, user_id)
);
