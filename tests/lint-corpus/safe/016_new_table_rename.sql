-- expect: none
-- Renaming a column of a new table breaks no running query.
CREATE TABLE notes (id bigint PRIMARY KEY, txt text);
ALTER TABLE notes RENAME COLUMN txt TO body;
