-- expect: drop-index-not-concurrent
-- An index not created in the file is an old one.
CREATE TABLE archive (id bigint PRIMARY KEY);
CREATE INDEX archive_id_idx ON archive (id);
DROP INDEX users_name_idx;
