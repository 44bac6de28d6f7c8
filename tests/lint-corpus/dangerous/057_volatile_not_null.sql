-- expect: volatile-default
-- A volatile default rewrites the table.
ALTER TABLE jobs ADD COLUMN queued_at timestamptz NOT NULL DEFAULT clock_timestamp();
