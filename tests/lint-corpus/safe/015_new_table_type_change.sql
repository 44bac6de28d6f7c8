-- expect: none
-- Changing a column of a new table rewrites nothing anyone reads.
CREATE TABLE drafts (id bigint PRIMARY KEY, body varchar(200));
ALTER TABLE drafts ALTER COLUMN body TYPE text;
