-- 0023: jobs that write in short batches.
-- erase (/forget, retention) finds a person's audit lines without scanning the log
CREATE INDEX audit_log_actor ON audit_log (actor);
CREATE INDEX audit_log_target ON audit_log (target);
CREATE INDEX reports_reporter ON reports (reporter);
CREATE INDEX feedback_user ON feedback (user_id);
-- a call's launch queues its audience in chunks; until the last chunk, the highest user id
-- queued so far (NULL: nothing left to queue), so an interrupted launch carries on from there
ALTER TABLE campaigns ADD COLUMN queued_until INTEGER;
