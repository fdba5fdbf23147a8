-- 0017 on PostgreSQL: as 0017_directory_changes.sql (read it for why), with the triggers in
-- PL/pgSQL. An activity takes its number before it is written (BEFORE triggers), which is what
-- SQLite's AFTER triggers do by updating the row they have just written.

CREATE TABLE change_counter (
    name TEXT PRIMARY KEY,                   -- 'activities' or 'groups'
    seq  BIGINT NOT NULL
);
INSERT INTO change_counter (name, seq) VALUES ('activities', 0), ('groups', 0);

ALTER TABLE activities ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE activities ADD COLUMN last_end TEXT;
CREATE INDEX activities_change ON activities (change_seq);

CREATE TABLE activities_removed (
    change_seq  BIGINT PRIMARY KEY,
    activity_id BIGINT NOT NULL
);

CREATE FUNCTION next_change(counter TEXT) RETURNS BIGINT LANGUAGE sql AS $$
    UPDATE change_counter SET seq = seq + 1 WHERE name = counter RETURNING seq
$$;

CREATE FUNCTION activity_numbered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := next_change('activities');
    IF TG_OP = 'UPDATE' AND (NEW.starts_at IS DISTINCT FROM OLD.starts_at
        OR NEW.duration_min IS DISTINCT FROM OLD.duration_min
        OR NEW.rrule IS DISTINCT FROM OLD.rrule OR NEW.until IS DISTINCT FROM OLD.until
        OR NEW.group_id IS DISTINCT FROM OLD.group_id) THEN
        NEW.last_end := NULL;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER activities_inserted BEFORE INSERT ON activities
    FOR EACH ROW EXECUTE FUNCTION activity_numbered();

CREATE TRIGGER activities_changed BEFORE UPDATE OF
    group_id, title, category, lat, lon, starts_at, duration_min, rrule, until, languages, cost,
    needs, status, paused, stale_since ON activities
    FOR EACH ROW EXECUTE FUNCTION activity_numbered();

CREATE FUNCTION activity_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO activities_removed (change_seq, activity_id)
    VALUES (next_change('activities'), OLD.id);
    RETURN NULL;
END $$;

CREATE TRIGGER activities_deleted AFTER DELETE ON activities
    FOR EACH ROW EXECUTE FUNCTION activity_removed();

CREATE FUNCTION activity_skip_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE activities SET change_seq = next_change('activities')
    WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.activity_id ELSE NEW.activity_id END;
    RETURN NULL;
END $$;

CREATE TRIGGER activity_skips_added AFTER INSERT ON activity_skips
    FOR EACH ROW EXECUTE FUNCTION activity_skip_changed();

CREATE TRIGGER activity_skips_removed AFTER DELETE ON activity_skips
    FOR EACH ROW EXECUTE FUNCTION activity_skip_changed();

CREATE FUNCTION group_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM next_change('groups');
    RETURN NULL;
END $$;

CREATE TRIGGER groups_changed AFTER INSERT OR UPDATE OR DELETE ON groups
    FOR EACH ROW EXECUTE FUNCTION group_changed();
