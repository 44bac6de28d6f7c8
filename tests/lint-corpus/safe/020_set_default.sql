-- expect: none
-- SET DEFAULT affects only future rows.
ALTER TABLE users ALTER COLUMN locale SET DEFAULT 'en';
