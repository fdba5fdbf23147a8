-- 0020: a placeholder on branch scale-delivery so migrations run 1, 2, 3...; another branch
-- brings the real 0020. Delete this file when merging.
SELECT 1;
