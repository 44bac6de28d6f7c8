-- expect: transaction-control
-- ROLLBACK throws the migration away.
ALTER TABLE users ADD COLUMN x int;
ROLLBACK;
