-- expect: unique-without-index
-- ADD CONSTRAINT ... UNIQUE builds its index under ACCESS EXCLUSIVE.
ALTER TABLE accounts ADD CONSTRAINT accounts_slug_key UNIQUE (slug);
