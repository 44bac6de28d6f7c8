-- expect: alter-column-type
-- ALTER COLUMN TYPE rewrites the table under ACCESS EXCLUSIVE.
ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);
