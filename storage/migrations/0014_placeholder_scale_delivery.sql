-- 0014: a placeholder on branch scale-delivery so migrations run 1, 2, 3...; another branch
-- brings the real 0014. Delete this file when merging.
SELECT 1;
