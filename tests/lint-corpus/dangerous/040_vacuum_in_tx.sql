-- expect: needs-no-transaction
-- VACUUM cannot run in a transaction block.
VACUUM ANALYZE orders;
