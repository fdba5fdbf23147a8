-- 0019: several instances on one database.
-- What a conversation remembers between two updates, so that the next update may be handled by
-- another instance: what the next place is for, a kind of activity asked for before a place,
-- the last place searched (rounded to about 1 km, as in the buttons). One row per person, as
-- JSON; deleted when the person is forgotten, or a day untouched.
CREATE TABLE sessions (
    user_id     INTEGER PRIMARY KEY,
    data        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX sessions_updated ON sessions (updated_at);

-- Work that runs on one instance at a time ('jobs': the planners, retention; 'sender': the
-- outbox sender), held by the instance named ``holder`` until ``expires_at`` and renewed
-- well before; another instance takes it once it has expired.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

-- The jobs' instance reads the reminders asked for since its last run (on any instance), and
-- every instance the chats that became reachable or unreachable since its last look.
CREATE INDEX reminders_created ON reminders (created_at);
CREATE INDEX chat_status_updated ON chat_status (updated_at);

-- Each instance keeps recently read people in memory (their language, above all): a change to
-- a person gives their row the next number of a counter, by trigger, whichever instance makes
-- it, and each instance drops from memory the rows numbered since its last look (everything,
-- when a person was deleted, as nothing of them is kept to say who).
INSERT INTO change_counter (name, seq) VALUES ('users', 0);
ALTER TABLE users ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX users_change ON users (change_seq);

CREATE TRIGGER users_inserted AFTER INSERT ON users BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE name = 'users';
    UPDATE users SET change_seq = (SELECT seq FROM change_counter WHERE name = 'users')
    WHERE id = NEW.id;
END;

CREATE TRIGGER users_changed AFTER UPDATE ON users WHEN NEW.change_seq = OLD.change_seq BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE name = 'users';
    UPDATE users SET change_seq = (SELECT seq FROM change_counter WHERE name = 'users')
    WHERE id = NEW.id;
END;

CREATE TRIGGER users_deleted AFTER DELETE ON users BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE name = 'users';
END;
