-- 0021: the network's figures as a job last counted them (the desk's Overview reads them in
-- milliseconds instead of counting a million people while a coordinator waits), one row per
-- figure a day: the day's last count, so the days before give the figures over time. Counts
-- only, no ids. And the indexes that let the counts read an index only, not every row:
-- people by purpose and by language, messages sent of each kind by month.
CREATE TABLE stats_snapshots (
    counted_on  TEXT NOT NULL,   -- YYYY-MM-DD (UTC)
    figure      TEXT NOT NULL,
    key         TEXT NOT NULL,
    month       TEXT NOT NULL,   -- YYYY-MM, or '' for a count of now
    count       INTEGER NOT NULL,
    position    INTEGER NOT NULL,  -- the order the figures are shown in
    counted_at  TEXT NOT NULL,   -- when this day's figures were counted (UTC)
    PRIMARY KEY (counted_on, figure, key, month)
);
CREATE INDEX users_intent ON users (intent);
CREATE INDEX users_locale ON users (locale);
CREATE INDEX outbox_sent_by_kind ON outbox (kind, state, updated_at);
