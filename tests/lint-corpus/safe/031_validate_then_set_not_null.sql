-- expect: none
-- A validated CHECK lets SET NOT NULL skip its scan (PostgreSQL 12+).
ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_email_not_null;
