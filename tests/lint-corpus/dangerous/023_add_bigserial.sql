-- expect: add-column-rewrite
-- A bigserial column fills every row from a sequence: rewrite.
ALTER TABLE logs ADD COLUMN seq bigserial;
