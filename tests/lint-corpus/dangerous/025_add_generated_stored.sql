-- expect: add-column-rewrite
-- A stored generated column is computed for every row: rewrite.
ALTER TABLE items ADD COLUMN total numeric GENERATED ALWAYS AS (price * quantity) STORED;
