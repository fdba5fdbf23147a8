-- 0020: retention finds the people it asked whether to stay through an index, not by reading
-- every person (a million rows held the database 120 ms each hourly run). Only those asked
-- are in it.
CREATE INDEX users_retention_asked ON users (retention_asked_at)
    WHERE retention_asked_at IS NOT NULL;
