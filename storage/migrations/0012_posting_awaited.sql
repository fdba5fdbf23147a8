-- 0012: a volunteer being asked a post's questions is an awaited answer like the others (its
-- answers stay in activity_drafts). Drafts in progress are carried over, so that nobody who
-- was answering before the upgrade is read as searching for a place after it.
INSERT OR IGNORE INTO awaited_answers (user_id, journey, about, updated_at)
SELECT user_id, 'posting', '"' || step || '"', updated_at FROM activity_drafts;
