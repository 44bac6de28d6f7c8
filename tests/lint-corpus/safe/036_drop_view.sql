-- expect: none
-- Dropping a view loses no data.
DROP VIEW IF EXISTS active_users;
