-- expect: none
-- A new schema.
CREATE SCHEMA IF NOT EXISTS analytics;
