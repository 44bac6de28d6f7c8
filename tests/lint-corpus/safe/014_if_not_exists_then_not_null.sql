-- expect: none
-- A table created in the same migration, IF NOT EXISTS or not, is new.
CREATE TABLE IF NOT EXISTS invites (id bigint PRIMARY KEY);
ALTER TABLE invites ADD COLUMN code text NOT NULL;
CREATE INDEX invites_code_idx ON invites (code);
