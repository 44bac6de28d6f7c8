-- expect: constraint-not-valid
-- An inline CHECK is validated against every row.
ALTER TABLE products ADD COLUMN weight numeric CHECK (weight > 0);
