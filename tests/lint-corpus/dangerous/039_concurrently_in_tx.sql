-- expect: needs-no-transaction
-- CREATE INDEX CONCURRENTLY cannot run in a transaction block.
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
