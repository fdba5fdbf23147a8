-- 0012 on PostgreSQL: as 0012_posting_awaited.sql, with ON CONFLICT for SQLite's INSERT OR IGNORE.
INSERT INTO awaited_answers (user_id, journey, about, updated_at)
SELECT user_id, 'posting', '"' || step || '"', updated_at FROM activity_drafts
ON CONFLICT DO NOTHING;
