-- expect: constraint-not-valid
-- An inline REFERENCES is validated at once, locking both tables.
ALTER TABLE comments ADD COLUMN author_id bigint REFERENCES users (id);
