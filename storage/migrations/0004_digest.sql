-- 0004: the weekly digest, opt-in.

ALTER TABLE users ADD COLUMN weekly_digest INTEGER NOT NULL DEFAULT 0;
