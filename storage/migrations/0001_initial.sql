-- 0001: people, groups and their welcoming activities.
-- Times are UTC ISO-8601 text; a recurring activity keeps the UTC start of its first
-- occurrence, its group's time zone and an RFC 5545 RRULE expanded in that zone.

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,         -- Telegram user id
    locale      TEXT,                        -- chosen language code; NULL until chosen
    intent      TEXT CHECK (intent IN ('seeking', 'volunteer', 'supporter')),
    area_lat    REAL,                        -- saved area only when asked, rounded to ~1 km
    area_lon    REAL,
    area_label  TEXT,                        -- town name or postcode district, never an address
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CHECK ((area_lat IS NULL) = (area_lon IS NULL))
);

CREATE TABLE groups (
    id          INTEGER PRIMARY KEY,
    ref         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('group', 'stream')),
    stream      TEXT,
    town        TEXT NOT NULL,
    nation      TEXT NOT NULL,
    lat         REAL NOT NULL,
    lon         REAL NOT NULL,
    email       TEXT,
    website     TEXT,
    phone       TEXT,
    telegram    TEXT,
    description TEXT NOT NULL DEFAULT '',
    timezone    TEXT NOT NULL DEFAULT 'Europe/London',
    verified    INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE activities (
    id           INTEGER PRIMARY KEY,
    ref          TEXT UNIQUE,                -- import reference; NULL when posted in the bot
    group_id     INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    category     TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    venue        TEXT NOT NULL DEFAULT '',
    address      TEXT NOT NULL DEFAULT '',
    postcode     TEXT NOT NULL DEFAULT '',
    lat          REAL NOT NULL,
    lon          REAL NOT NULL,
    starts_at    TEXT NOT NULL,              -- first occurrence, UTC
    duration_min INTEGER NOT NULL CHECK (duration_min > 0),
    rrule        TEXT,                       -- NULL for a one-off
    until        TEXT,                       -- last local date of a series, or NULL
    languages    TEXT NOT NULL DEFAULT 'en', -- space-separated language codes
    cost         TEXT,                       -- NULL when free
    needs        TEXT NOT NULL DEFAULT '',   -- space-separated Need codes
    contact      TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'published'
                 CHECK (status IN ('draft', 'pending', 'published', 'hidden', 'cancelled')),
    created_by   INTEGER,                    -- volunteer's Telegram id; NULL when imported
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX activities_group ON activities (group_id);
CREATE INDEX activities_updated ON activities (updated_at);

CREATE TABLE activity_skips (
    activity_id INTEGER NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    local_date  TEXT NOT NULL,               -- a date of the series that does not take place
    PRIMARY KEY (activity_id, local_date)
);
