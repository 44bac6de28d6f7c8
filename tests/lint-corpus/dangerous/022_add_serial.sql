-- expect: add-column-rewrite
-- A serial column fills every row from a sequence: rewrite.
ALTER TABLE tickets ADD COLUMN number serial;
