-- expect: needs-no-transaction reindex-not-concurrent
-- REINDEX SCHEMA cannot run in a transaction and blocks writes.
REINDEX SCHEMA public;
