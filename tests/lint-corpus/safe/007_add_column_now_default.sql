-- expect: none
-- now() is stable: no rewrite.
ALTER TABLE orders ADD COLUMN imported_at timestamptz DEFAULT now();
