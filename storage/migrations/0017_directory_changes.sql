-- 0017: the search directory follows changes one activity at a time.
-- Every change that can move an activity in /find (where, what, when, shown or not) gives it the
-- next number of a counter, by trigger, whichever process makes it (the bot or the CLI import);
-- the bot reads only the rows numbered above the last it saw. Groups have a counter of their own.
-- A series' last end is worked out once and kept (NULL: not worked out yet; '': no last date).

CREATE TABLE change_counter (
    name TEXT PRIMARY KEY,                   -- 'activities' or 'groups'
    seq  INTEGER NOT NULL
);
INSERT INTO change_counter (name, seq) VALUES ('activities', 0), ('groups', 0);

ALTER TABLE activities ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activities ADD COLUMN last_end TEXT;
CREATE INDEX activities_change ON activities (change_seq);

-- deleted activities, so the directory drops them too
CREATE TABLE activities_removed (
    change_seq  INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL
);

CREATE TRIGGER activities_inserted AFTER INSERT ON activities BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE name = 'activities';
    UPDATE activities SET change_seq = (SELECT seq FROM change_counter WHERE name = 'activities')
    WHERE id = NEW.id;
END;

CREATE TRIGGER activities_changed AFTER UPDATE OF
    group_id, title, category, lat, lon, starts_at, duration_min, rrule, until, languages, cost,
    needs, status, paused, stale_since ON activities
BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE name = 'activities';
    UPDATE activities SET
        change_seq = (SELECT seq FROM change_counter WHERE name = 'activities'),
        last_end = CASE
            WHEN NEW.starts_at IS OLD.starts_at AND NEW.duration_min IS OLD.duration_min
             AND NEW.rrule IS OLD.rrule AND NEW.until IS OLD.until AND NEW.group_id IS OLD.group_id
            THEN NEW.last_end END
    WHERE id = NEW.id;
END;

CREATE TRIGGER activities_deleted AFTER DELETE ON activities BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE name = 'activities';
    INSERT INTO activities_removed (change_seq, activity_id)
    VALUES ((SELECT seq FROM change_counter WHERE name = 'activities'), OLD.id);
END;

CREATE TRIGGER activity_skips_added AFTER INSERT ON activity_skips BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE name = 'activities';
    UPDATE activities SET change_seq = (SELECT seq FROM change_counter WHERE name = 'activities')
    WHERE id = NEW.activity_id;
END;

CREATE TRIGGER activity_skips_removed AFTER DELETE ON activity_skips BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE name = 'activities';
    UPDATE activities SET change_seq = (SELECT seq FROM change_counter WHERE name = 'activities')
    WHERE id = OLD.activity_id;
END;

CREATE TRIGGER groups_inserted AFTER INSERT ON groups BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE name = 'groups';
END;

CREATE TRIGGER groups_changed AFTER UPDATE ON groups BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE name = 'groups';
END;

CREATE TRIGGER groups_deleted AFTER DELETE ON groups BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE name = 'groups';
END;
