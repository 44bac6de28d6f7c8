-- expect: index-not-concurrent
-- Creating one table does not make another one new.
CREATE TABLE IF NOT EXISTS tags (id bigint PRIMARY KEY, name text);
CREATE INDEX posts_tag_idx ON posts (tag_id);
