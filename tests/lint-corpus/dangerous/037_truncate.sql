-- expect: destructive
-- TRUNCATE deletes every row (ACCESS EXCLUSIVE).
TRUNCATE TABLE sessions;
