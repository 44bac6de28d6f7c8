-- expect: none
-- A constant text default needs no rewrite.
ALTER TABLE users ADD COLUMN theme text NOT NULL DEFAULT 'light';
