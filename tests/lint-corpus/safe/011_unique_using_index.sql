-- expect: none
-- ADD UNIQUE USING INDEX reuses an index built concurrently.
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;
