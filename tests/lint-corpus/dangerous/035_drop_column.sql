-- expect: destructive
-- DROP COLUMN deletes the data and breaks readers.
ALTER TABLE users DROP COLUMN legacy_password;
