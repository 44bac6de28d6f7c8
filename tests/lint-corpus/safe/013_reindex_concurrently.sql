-- expect: none
-- REINDEX CONCURRENTLY does not block writes.
-- cairn: no-transaction
REINDEX INDEX CONCURRENTLY orders_pkey;
