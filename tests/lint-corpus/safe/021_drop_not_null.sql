-- expect: none
-- DROP NOT NULL needs no scan.
ALTER TABLE users ALTER COLUMN phone DROP NOT NULL;
