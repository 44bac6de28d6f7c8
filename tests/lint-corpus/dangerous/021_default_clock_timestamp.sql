-- expect: volatile-default
-- clock_timestamp() is volatile: the table is rewritten.
ALTER TABLE audit ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();
