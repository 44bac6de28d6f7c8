-- expect: none
-- Indexing a table created in the same migration blocks no one.
CREATE TABLE tags (id bigint PRIMARY KEY, name text NOT NULL);
CREATE UNIQUE INDEX tags_name_key ON tags (name);
