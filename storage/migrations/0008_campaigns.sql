-- 0008: supporters' alert subscriptions and the network's campaign calls.

-- A person who asked for campaign calls (people seeking sanctuary only by their own opt-in).
-- Bit masks over bot.domain.TOPIC_ORDER and AREA_ORDER; the area is matched at send time
-- against the person's saved area, so a move moves their area alerts too.
CREATE TABLE alert_subs (
    user_id     INTEGER PRIMARY KEY,
    topics      INTEGER NOT NULL,
    areas       INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE campaigns (
    id            INTEGER PRIMARY KEY,
    title         TEXT NOT NULL DEFAULT '',   -- English
    body          TEXT NOT NULL DEFAULT '',   -- English
    action_url    TEXT NOT NULL DEFAULT '',   -- https only
    topics        INTEGER NOT NULL DEFAULT 0,
    area          TEXT NOT NULL DEFAULT 'uk', -- uk | a bot.domain.Nation | near
    area_lat      REAL,                       -- for 'near': the place, rounded
    area_lon      REAL,
    area_label    TEXT,
    radius_km     REAL NOT NULL DEFAULT 40,
    send_at       TEXT,                       -- UTC; NULL: as soon as confirmed
    state         TEXT NOT NULL DEFAULT 'draft'
                  CHECK (state IN ('draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled')),
    created_by    INTEGER,                    -- the coordinator (NULL once forgotten)
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    launched_at   TEXT,                       -- when its audience was fixed and queued
    recipients    INTEGER NOT NULL DEFAULT 0, -- figures: kept here, not read from the outbox,
    sent          INTEGER NOT NULL DEFAULT 0, -- whose rows are purged after 90 days
    failed        INTEGER NOT NULL DEFAULT 0,
    unreachable   INTEGER NOT NULL DEFAULT 0,
    did           INTEGER NOT NULL DEFAULT 0, -- "I did it" (counts only: never who)
    not_for_me    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX campaigns_state ON campaigns (state, send_at);

CREATE TABLE campaign_texts (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    locale       TEXT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    PRIMARY KEY (campaign_id, locale)
);

-- A call's fixed audience, and what each recipient answered (so "I did it" counts once).
-- Rows of calls finished long ago are purged by retention; the counts above stay.
CREATE TABLE campaign_recipients (
    campaign_id   INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL,
    response      TEXT CHECK (response IN ('did', 'not')),
    PRIMARY KEY (campaign_id, user_id)
);
CREATE INDEX campaign_recipients_user ON campaign_recipients (user_id);
