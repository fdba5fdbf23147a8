-- 0003: "Remind me" subscriptions and each person's reminder settings.

CREATE TABLE reminders (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    activity_id INTEGER NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, activity_id)
);
CREATE INDEX reminders_activity ON reminders (activity_id);

ALTER TABLE users ADD COLUMN remind_day_before INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN remind_hour_before INTEGER NOT NULL DEFAULT 1;
