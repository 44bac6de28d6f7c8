-- expect: none
-- DROP INDEX CONCURRENTLY does not block readers.
-- cairn: no-transaction
DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;
