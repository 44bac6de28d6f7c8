-- expect: set-not-null
-- SET NOT NULL scans the table under ACCESS EXCLUSIVE.
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
