-- expect: none
-- A serial column on a table created in the same migration.
CREATE TABLE counters (name text PRIMARY KEY);
ALTER TABLE counters ADD COLUMN id bigserial;
