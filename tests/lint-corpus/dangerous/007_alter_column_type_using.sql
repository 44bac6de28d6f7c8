-- expect: alter-column-type
-- A USING clause forces a rewrite under ACCESS EXCLUSIVE.
ALTER TABLE events ALTER COLUMN payload TYPE jsonb USING payload::jsonb;
