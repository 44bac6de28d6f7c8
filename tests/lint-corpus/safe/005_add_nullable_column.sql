-- expect: none
-- Adding a nullable column is a catalog change only.
ALTER TABLE users ADD COLUMN nickname text;
