-- expect: set-logged
-- SET UNLOGGED rewrites the table under ACCESS EXCLUSIVE.
ALTER TABLE sessions SET UNLOGGED;
