-- 0019 on PostgreSQL: as 0019_instances.sql (read it for why), with the users' change
-- triggers in PL/pgSQL: a person's row takes its number before it is written (BEFORE
-- triggers), which is what SQLite's AFTER triggers do by updating the row just written.

CREATE TABLE sessions (
    user_id     BIGINT PRIMARY KEY,
    data        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX sessions_updated ON sessions (updated_at);

CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

CREATE INDEX reminders_created ON reminders (created_at);
CREATE INDEX chat_status_updated ON chat_status (updated_at);

INSERT INTO change_counter (name, seq) VALUES ('users', 0);
ALTER TABLE users ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX users_change ON users (change_seq);

CREATE FUNCTION user_numbered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.change_seq = OLD.change_seq THEN
        NEW.change_seq := next_change('users');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER users_inserted BEFORE INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION user_numbered();

CREATE TRIGGER users_changed BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION user_numbered();

CREATE FUNCTION user_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM next_change('users');
    RETURN NULL;
END $$;

CREATE TRIGGER users_deleted AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION user_removed();
