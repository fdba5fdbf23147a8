-- 0018: an activity's title, description, cost note and place notes in other languages, one
-- row per activity, language and field. ``original`` is the original text the translation was
-- made from (or last confirmed against): when the activity's text differs, the translation is
-- out of date and shown with a note until an organiser confirms it. A volunteer's translation
-- waits (pending) while their posts do. No personal data: who translated is in the audit log.
CREATE TABLE activity_translations (
    activity_id  INTEGER NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    lang         TEXT NOT NULL,
    field        TEXT NOT NULL CHECK (field IN ('title', 'description', 'cost', 'place')),
    text         TEXT NOT NULL,
    original     TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'published' CHECK (status IN ('pending', 'published')),
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (activity_id, lang, field)
);
