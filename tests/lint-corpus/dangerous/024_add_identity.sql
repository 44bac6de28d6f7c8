-- expect: add-column-rewrite
-- An identity column fills every row: rewrite.
ALTER TABLE imports ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
