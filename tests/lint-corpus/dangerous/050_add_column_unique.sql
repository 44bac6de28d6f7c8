-- expect: unique-without-index
-- An inline UNIQUE builds an index under ACCESS EXCLUSIVE.
ALTER TABLE users ADD COLUMN handle text UNIQUE;
