-- expect: none
-- CREATE INDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE.
-- cairn: no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_idx ON orders (customer_id);
