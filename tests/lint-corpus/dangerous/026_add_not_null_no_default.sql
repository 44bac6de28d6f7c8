-- expect: not-null-without-default
-- NOT NULL without DEFAULT fails on a table with rows.
ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;
