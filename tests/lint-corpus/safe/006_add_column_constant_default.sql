-- expect: none
-- A constant default is stored in the catalog (PostgreSQL 11+).
ALTER TABLE users ADD COLUMN is_active boolean NOT NULL DEFAULT true;
