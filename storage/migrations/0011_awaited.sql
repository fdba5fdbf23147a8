-- 0011: a typed answer the bot has asked for and waits for (a campaign call's title, a
-- moderator's reason, the words of a report or of feedback), one per person and journey, so
-- that after a restart the answer still reaches its question instead of being read as a place.
-- Deleted when answered or given up, when the person is forgotten, or 30 days untouched.
CREATE TABLE awaited_answers (
    user_id     INTEGER NOT NULL,
    journey     TEXT NOT NULL,     -- which question: compose, moderating, report, feedback
    about       TEXT NOT NULL,     -- what it answers (JSON: ids, field names; for a call's
                                   -- translated text, the translated title sent just before)
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, journey)
);
