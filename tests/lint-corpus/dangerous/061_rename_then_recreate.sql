-- expect: rename-table
-- Renaming the old table breaks its readers.
ALTER TABLE settings RENAME TO settings_old;
CREATE TABLE settings (k text PRIMARY KEY, v text);
