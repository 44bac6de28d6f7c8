-- expect: unique-without-index
-- ADD UNIQUE builds its index under ACCESS EXCLUSIVE.
ALTER TABLE users ADD UNIQUE (email);
