-- expect: none
-- Updating one row by key.
UPDATE settings SET value = 'on' WHERE key = 'feature_x';
